/*-------------------------------------------------------------------------
 *
 * cv_sql.c
 *	  The SQL a continuous view is made of: its storage table, the command
 *	  its pipeline runs for each batch, and the view's query.
 *
 * The batch's rows come from the user's query itself, with its select
 * list replaced by the group keys, the aggregates' arguments and the
 * source's sequence column, and deparsed with every name qualified:
 *
 *	 INSERT INTO storage AS t (keys, parts)
 *	 SELECT b."$k1", ..., <batch aggregates over b."$a1", ...>
 *	 FROM (<the user's FROM and WHERE>) b
 *	 WHERE b."$id" BETWEEN $1 AND $2
 *	 GROUP BY b."$k1", ...
 *	 ON CONFLICT (keys) DO UPDATE SET part = <merge of t.part and excluded.part>
 *
 * The planner flattens the subquery, so the range condition reaches the
 * source's scan.  The view computes the user's select list and HAVING
 * from the stored parts; a real-time view first combines the stored rows
 * with the same aggregates over the rows above the pipeline's progress.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "continuous_views/cv_sql.h"

/* The batch's column names */
#define BATCH_KEY_FORMAT "$k%d"
#define BATCH_ID_COLUMN "$id"
#define BATCH_ID_COLUMN_QUOTED "\"$id\""

/* The storage's key column of a view without GROUP BY: one row */
#define SINGLE_ROW_COLUMN "single_row"

typedef struct ViewColumnMapping
{
	ContinuousViewDefinition *definition;
	Query	   *finals;			/* the query the view reads from */
} ViewColumnMapping;

static Query *BatchRowsQuery(ContinuousViewDefinition *definition);
static char *ExactDistinctRows(ContinuousViewDefinition *definition, CVAggregate *target,
							   const char *source, const char *leading);
static char *PendingDistinctPairs(ContinuousViewDefinition *definition,
								  CVAggregate *aggregate, const char *condition);
static void AppendSideTableInserts(StringInfo command, ContinuousViewDefinition *definition,
								   const char *rangeCondition);
static void AppendRegroupedBatch(StringInfo command, ContinuousViewDefinition *definition,
								 const char *range);
static char *DeparseQualified(Query *query);
static char *BatchCommandWithRange(ContinuousViewDefinition *definition,
								   const char *storageName, const char *deltaTable,
								   const char *range);
static void AppendStateColumns(StringInfo columns, ContinuousViewDefinition *definition,
							   const char *singleRow);
static char *BatchSelect(ContinuousViewDefinition *definition, const char *rangeCondition,
						 bool withKeyNames, const char *leading);
static char *PartArguments(CVAggregate *aggregate, const char *qualifier, char **args);
static char *FinalExpression(CVAggregate *aggregate, const char *qualifier);
static char *KeyList(ContinuousViewDefinition *definition, const char *qualifier);
static Node *MapToFinals(Node *node, ViewColumnMapping *mapping);
static Var *FinalsColumn(Query *finals, int position);
static char *ViewKeyList(ContinuousViewDefinition *definition, const char *qualifier);
static const char *IdTypeMaximum(ContinuousViewDefinition *definition);


/*
 * FillTemplate replaces the placeholders %1$s .. %N$s of a rule's template
 * with the given texts.  (psprintf cannot: it insists that every argument
 * up to the highest one used is used.)
 */
char *
FillTemplate(const char *template, char **args, int nargs)
{
	StringInfoData result;
	const char *p = template;

	initStringInfo(&result);
	while (*p != '\0')
	{
		if (p[0] == '%' && p[1] >= '1' && p[1] <= '9')
		{
			const char *q = p + 1;
			int			position = 0;

			while (*q >= '0' && *q <= '9')
				position = position * 10 + (*q++ - '0');
			if (q[0] == '$' && q[1] == 's' && position >= 1 && position <= nargs)
			{
				appendStringInfoString(&result, args[position - 1]);
				p = q + 2;
				continue;
			}
		}
		appendStringInfoChar(&result, *p++);
	}
	return result.data;
}


char *
StorageTableCommand(ContinuousViewDefinition *definition, const char *storageName,
					CVGroupKey *partitionKey)
{
	StringInfoData command;

	initStringInfo(&command);
	appendStringInfo(&command, "CREATE TABLE %s (", storageName);

	AppendStateColumns(&command, definition,
					   SINGLE_ROW_COLUMN " boolean NOT NULL DEFAULT true "
					   "CHECK (" SINGLE_ROW_COLUMN ")");

	/* NULL keys are one group, as in GROUP BY */
	appendStringInfo(&command, ", UNIQUE NULLS NOT DISTINCT (%s))", KeyList(definition, NULL));
	if (partitionKey != NULL)
		appendStringInfo(&command, " PARTITION BY RANGE (%s)",
						 quote_identifier(partitionKey->columnName));
	return command.data;
}


/*
 * CREATE TABLE for the values an exact distinct count has seen: one row per
 * group and value, the value first so that a batch's lookups by value can
 * use the index whatever the keys hold (NULL keys compare with IS NOT
 * DISTINCT FROM, which an index cannot).
 */
char *
SideTableCommand(ContinuousViewDefinition *definition, CVAggregate *aggregate)
{
	StringInfoData command;
	ListCell   *cell;

	initStringInfo(&command);
	appendStringInfo(&command, "CREATE TABLE %s (value %s NOT NULL", aggregate->sideTable,
					 aggregate->distinctTypeName);
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		appendStringInfo(&command, ", %s %s%s%s", quote_identifier(key->columnName),
						 key->typeName, key->collation ? " COLLATE " : "",
						 key->collation ? key->collation : "");
	}
	appendStringInfo(&command, ", UNIQUE NULLS NOT DISTINCT (value%s%s))",
					 definition->groupKeys != NIL ? ", " : "",
					 definition->groupKeys != NIL ? KeyList(definition, NULL) : "");
	return command.data;
}


/*
 * The rows that carry the new values of an exact distinct count, one per
 * group, for a UNION ALL beside the batch's (or the pending rows') own
 * grouped row: the group's keys, NULL for every other part, and the number
 * of values the side table did not hold yet.  'source' yields the new
 * (keys, value) pairs, with the storage's key column names.  The
 * combination groups by the keys, which matches NULL keys as GROUP BY
 * does and can hash, where a lookup by keys could not use an index.
 */
static char *
ExactDistinctRows(ContinuousViewDefinition *definition, CVAggregate *target,
				  const char *source, const char *leading)
{
	StringInfoData rows;
	ListCell   *cell;

	initStringInfo(&rows);
	appendStringInfo(&rows, "SELECT %s%s", leading,
					 definition->groupKeys != NIL ? KeyList(definition, "n") : "true");
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
			appendStringInfo(&rows, ", %s", aggregate == target ? "count(*)" :
							 psprintf("NULL::%s", aggregate->parts[i].typeName));
	}
	appendStringInfo(&rows, " FROM %s n", source);
	if (definition->groupKeys != NIL)
		appendStringInfo(&rows, " GROUP BY %s", KeyList(definition, "n"));
	return rows.data;
}


/*
 * The (keys, value) pairs of an exact distinct count among the rows that
 * meet the condition which its side table does not hold, for a real-time
 * view: EXCEPT compares NULL keys as equal, and only the side table's rows
 * with the values at hand are read.
 */
static char *
PendingDistinctPairs(ContinuousViewDefinition *definition, CVAggregate *aggregate,
					 const char *condition)
{
	StringInfoData pairs;
	char	   *rows = DeparseQualified(BatchRowsQuery(definition));

	initStringInfo(&pairs);
	appendStringInfoString(&pairs, "(SELECT DISTINCT ");
	for (int key = 1; key <= list_length(definition->groupKeys); key++)
		appendStringInfo(&pairs, "b.%s AS %s, ",
						 quote_identifier(psprintf(BATCH_KEY_FORMAT, key)),
						 quote_identifier(((CVGroupKey *) list_nth(definition->groupKeys,
																   key - 1))->columnName));
	appendStringInfo(&pairs, "b.%s AS value FROM (%s) b WHERE %s AND b.%s IS NOT NULL",
					 aggregate->distinctColumn, rows, condition, aggregate->distinctColumn);
	if (aggregate->filterColumn != NULL)
		appendStringInfo(&pairs, " AND b.%s", aggregate->filterColumn);
	appendStringInfo(&pairs, " EXCEPT SELECT %s%svalue FROM %s s WHERE value IN "
					 "(SELECT b.%s FROM (%s) b WHERE %s))",
					 definition->groupKeys != NIL ? KeyList(definition, "s") : "",
					 definition->groupKeys != NIL ? ", " : "",
					 aggregate->sideTable, aggregate->distinctColumn, rows, condition);
	return pairs.data;
}


/*
 * The data-modifying WITH queries that add a batch's new values to the side
 * tables of its exact distinct counts; they run to completion whether or not
 * the rest of the command reads them.
 */
static void
AppendSideTableInserts(StringInfo command, ContinuousViewDefinition *definition,
					   const char *rangeCondition)
{
	ListCell   *cell;
	int			number = 0;

	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		if (!aggregate->exactDistinct)
			continue;

		appendStringInfo(command, "%s seen_%d AS (INSERT INTO %s (value",
						 number == 0 ? "WITH" : ",", number + 1, aggregate->sideTable);
		number++;
		if (definition->groupKeys != NIL)
			appendStringInfo(command, ", %s", KeyList(definition, NULL));
		appendStringInfo(command, ") SELECT DISTINCT b.%s", aggregate->distinctColumn);
		for (int key = 1; key <= list_length(definition->groupKeys); key++)
			appendStringInfo(command, ", b.%s",
							 quote_identifier(psprintf(BATCH_KEY_FORMAT, key)));
		appendStringInfo(command, " FROM (%s) b WHERE %s AND b.%s IS NOT NULL",
						 DeparseQualified(BatchRowsQuery(definition)), rangeCondition,
						 aggregate->distinctColumn);
		if (aggregate->filterColumn != NULL)
			appendStringInfo(command, " AND b.%s", aggregate->filterColumn);
		appendStringInfo(command, " ON CONFLICT DO NOTHING RETURNING %s) ",
						 definition->groupKeys != NIL ? KeyList(definition, NULL) : "value");
	}
}


/*
 * The SELECT of a batch with exact distinct counts: the batch's grouped row
 * (tag 0, its distinct counts 0) and, for each count, the row of its new
 * values from the side table's insert (tag 1), combined per group.
 */
static void
AppendRegroupedBatch(StringInfo command, ContinuousViewDefinition *definition,
					 const char *range)
{
	ListCell   *cell;
	int			number = 0;

	appendStringInfo(command, ") SELECT %s",
					 definition->groupKeys != NIL ? KeyList(definition, "u") : "true");
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
		{
			const char *column = quote_identifier(aggregate->parts[i].columnName);

			if (aggregate->exactDistinct)
				appendStringInfo(command, ", sum(u.%s)::bigint", column);
			else
				appendStringInfo(command,
								 ", (array_agg(u.%s) FILTER (WHERE u.\"$tag\" = 0))[1]",
								 column);
		}
	}
	appendStringInfo(command, " FROM (%s",
					 BatchSelect(definition, range, true, "0 AS \"$tag\", "));
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		if (aggregate->exactDistinct)
			appendStringInfo(command, " UNION ALL %s",
							 ExactDistinctRows(definition, aggregate,
											   psprintf("seen_%d", ++number), "1, "));
	}
	appendStringInfoString(command, ") u");
	if (definition->groupKeys != NIL)
		appendStringInfo(command, " GROUP BY %s", KeyList(definition, "u"));
}


char *
BatchCommand(ContinuousViewDefinition *definition, const char *storageName,
			 const char *deltaTable)
{
	return BatchCommandWithRange(definition, storageName, deltaTable,
								 "b." BATCH_ID_COLUMN_QUOTED " BETWEEN $1 AND $2");
}


/*
 * Citus plans a statement with parameters that it must plan recursively
 * only once their values are known; its EXPLAIN of such a statement fails.
 */
char *
BatchCommandOverRange(ContinuousViewDefinition *definition, const char *storageName,
					  const char *deltaTable, int64 from, int64 to)
{
	return BatchCommandWithRange(definition, storageName, deltaTable,
								 psprintf("b." BATCH_ID_COLUMN_QUOTED " BETWEEN " INT64_FORMAT
										  " AND " INT64_FORMAT, from, to));
}


static char *
BatchCommandWithRange(ContinuousViewDefinition *definition, const char *storageName,
					  const char *deltaTable, const char *range)
{
	StringInfoData command;
	ListCell   *cell;
	bool		first = true;
	char	   *columns = StateColumnList(definition);

	initStringInfo(&command);
	if (deltaTable != NULL)
	{
		/* the batch's states, once, for both the delta table and the merge */
		Assert(!definition->hasExactDistinct);
		appendStringInfo(&command, "WITH \"$batch\" AS MATERIALIZED (%s), "
						 "\"$delta\" AS (INSERT INTO %s (%s) SELECT %s FROM \"$batch\") "
						 "INSERT INTO %s AS t (%s) SELECT %s FROM \"$batch\"",
						 BatchSelect(definition, range, true, ""), deltaTable, columns,
						 columns, storageName, columns, columns);
	}
	else
	{
		AppendSideTableInserts(&command, definition, range);
		appendStringInfo(&command, "INSERT INTO %s AS t (%s", storageName, columns);
		if (!definition->hasExactDistinct)
			appendStringInfo(&command, ") %s", BatchSelect(definition, range, false, ""));
		else
			AppendRegroupedBatch(&command, definition, range);
	}
	appendStringInfo(&command, " ON CONFLICT (%s) DO ", KeyList(definition, NULL));

	if (definition->aggregates == NIL)
	{
		appendStringInfoString(&command, "NOTHING");
		return command.data;
	}

	appendStringInfoString(&command, "UPDATE SET ");
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);
		char	   *args[2 * CV_MAX_PARTS];

		for (int i = 0; i < aggregate->nparts; i++)
		{
			const char *column = quote_identifier(aggregate->parts[i].columnName);

			args[2 * i] = psprintf("t.%s", column);
			args[2 * i + 1] = psprintf("excluded.%s", column);
		}
		for (int i = 0; i < aggregate->nparts; i++)
		{
			appendStringInfo(&command, "%s%s = %s", first ? "" : ", ",
							 quote_identifier(aggregate->parts[i].columnName),
							 FillTemplate(aggregate->parts[i].mergeTemplate, args,
										  2 * aggregate->nparts));
			first = false;
		}
	}
	return command.data;
}


/*
 * The SELECT of a batch: the keys and the batch aggregates over the rows
 * that meet the range condition.  Without GROUP BY, one row whatever the
 * batch holds.  withKeyNames names the columns as the storage does.
 */
static char *
BatchSelect(ContinuousViewDefinition *definition, const char *rangeCondition,
			bool withKeyNames, const char *leading)
{
	StringInfoData select;
	StringInfoData groupBy;
	ListCell   *cell;

	initStringInfo(&select);
	initStringInfo(&groupBy);
	appendStringInfo(&select, "SELECT %s", leading);

	if (definition->groupKeys == NIL)
		appendStringInfoString(&select, "true");
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);
		int			number = foreach_current_index(cell) + 1;
		const char *batchKey = quote_identifier(psprintf(BATCH_KEY_FORMAT, number));

		appendStringInfo(&select, "%sb.%s", number > 1 ? ", " : "", batchKey);
		if (withKeyNames)
			appendStringInfo(&select, " AS %s", quote_identifier(key->columnName));
		appendStringInfo(&groupBy, "%sb.%s", number > 1 ? ", " : "", batchKey);
	}
	if (withKeyNames && definition->groupKeys == NIL)
		appendStringInfoString(&select, " AS " SINGLE_ROW_COLUMN);

	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
		{
			appendStringInfo(&select, ", %s",
							 aggregate->exactDistinct ? "0::bigint" :
							 aggregate->parts[i].batchExpr);
			if (withKeyNames)
				appendStringInfo(&select, " AS %s",
								 quote_identifier(aggregate->parts[i].columnName));
		}
	}

	appendStringInfo(&select, " FROM (%s) b WHERE %s",
					 DeparseQualified(BatchRowsQuery(definition)), rangeCondition);
	if (groupBy.len > 0)
		appendStringInfo(&select, " GROUP BY %s", groupBy.data);
	return select.data;
}


/*
 * The user's query with its select list replaced by the group keys, the
 * batch columns and the source's sequence column, and without GROUP BY
 * and HAVING: the rows of a batch, before aggregation.
 */
static Query *
BatchRowsQuery(ContinuousViewDefinition *definition)
{
	Query	   *query = copyObject(definition->query);
	RangeTblEntry *source = rt_fetch(definition->sourceRangeIndex, query->rtable);
	List	   *targetList = NIL;
	ListCell   *cell;
	Oid			idType;
	int32		idTypmod;
	Oid			idCollation;

	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		targetList = lappend(targetList,
							 makeTargetEntry(copyObject(key->expr), list_length(targetList) + 1,
											 psprintf(BATCH_KEY_FORMAT,
													  foreach_current_index(cell) + 1),
											 false));
	}
	foreach(cell, definition->batchColumns)
	{
		CVBatchColumn *column = lfirst(cell);

		targetList = lappend(targetList,
							 makeTargetEntry(copyObject(column->expr), list_length(targetList) + 1,
											 column->name, false));
	}

	get_atttypetypmodcoll(source->relid, definition->idColumn, &idType, &idTypmod, &idCollation);
	targetList = lappend(targetList,
						 makeTargetEntry((Expr *) makeVar(definition->sourceRangeIndex,
														  definition->idColumn, idType,
														  idTypmod, idCollation, 0),
										 list_length(targetList) + 1,
										 BATCH_ID_COLUMN, false));

	/* the id is read: SELECT on the column is required as for the others */
	source->selectedCols = bms_add_member(source->selectedCols,
										  definition->idColumn -
										  FirstLowInvalidHeapAttributeNumber);

	query->targetList = targetList;
	query->groupClause = NIL;
	query->havingQual = NULL;
	query->hasAggs = false;
	return query;
}


/*
 * The view's query.  The stored parts (combined with the pending rows'
 * when real-time) give each group's keys and aggregate values in a
 * subquery; the user's select list and HAVING are then evaluated over it,
 * with its group keys and aggregates replaced by the subquery's columns.
 */
char *
ViewQuery(ContinuousViewDefinition *definition, const char *storageName,
		  const char *watermark, const char *watermarkEnd, List *columnNames,
		  const char *ttlColumn, const char *ttlSource)
{
	StringInfoData finals;
	bool		sliding = definition->slidingWindow != NULL;
	bool		combine = watermark != NULL || definition->viewKeyCount == 0 || sliding;
	const char *qualifier = combine ? "c" : "s";
	bool		firstKey = true;
	List	   *rawStatements;
	Query	   *finalsQuery;
	Query	   *view;
	RangeTblEntry *rte;
	RangeTblRef *reference;
	List	   *columnAliases = NIL;
	List	   *targetList = NIL;
	ViewColumnMapping mapping;
	ListCell   *cell;
	ListCell   *nameCell;

	initStringInfo(&finals);
	appendStringInfoString(&finals, "SELECT ");
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		if (key->isWindowStep)
			continue;
		appendStringInfo(&finals, "%s%s.%s", firstKey ? "" : ", ",
						 qualifier, quote_identifier(key->columnName));
		firstKey = false;
	}
	if (definition->viewKeyCount == 0)
		appendStringInfoString(&finals, "true AS " SINGLE_ROW_COLUMN);
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		appendStringInfo(&finals, ", %s AS %s", FinalExpression(aggregate, qualifier),
						 quote_identifier(aggregate->finalName));
	}

	if (!combine)
		appendStringInfo(&finals, " FROM %s s", storageName);
	else
	{
		/* combine the stored rows (and the pending batch) with the parts' aggregates */
		StringInfoData stored;
		bool		first = definition->viewKeyCount == 0;

		initStringInfo(&stored);
		appendStringInfo(&stored, "SELECT %s", KeyList(definition, NULL));
		appendStringInfo(&finals, " FROM (SELECT %s", ViewKeyList(definition, "u"));
		foreach(cell, definition->aggregates)
		{
			CVAggregate *aggregate = lfirst(cell);
			char	   *args[CV_MAX_PARTS];

			(void) PartArguments(aggregate, "u", args);
			for (int i = 0; i < aggregate->nparts; i++)
			{
				const char *column = quote_identifier(aggregate->parts[i].columnName);

				appendStringInfo(&stored, ", %s", column);
				appendStringInfo(&finals, "%s%s AS %s", first ? "" : ", ",
								 FillTemplate(aggregate->parts[i].combineTemplate, args,
											  aggregate->nparts),
								 column);
				first = false;
			}
		}
		appendStringInfo(&stored, " FROM %s", storageName);

		appendStringInfo(&finals, " FROM (%s", stored.data);
		if (watermark != NULL)
		{
			/*
			 * The rows above the pipeline's progress.  The upper bound,
			 * the largest value of the column's type, changes nothing but
			 * the planner's estimate: a range of two bounds, one of them
			 * unknown, is thought small, where "above an unknown value"
			 * alone is thought a third of the table.
			 */
			const char *end = watermarkEnd == NULL ? IdTypeMaximum(definition) :
				psprintf("COALESCE(%s, %s)", watermarkEnd, IdTypeMaximum(definition));
			char	   *pending = psprintf("b." BATCH_ID_COLUMN_QUOTED " > %s AND b."
										   BATCH_ID_COLUMN_QUOTED " <= %s", watermark, end);

			appendStringInfo(&finals, " UNION ALL %s",
							 BatchSelect(definition, pending, true, ""));
			foreach(cell, definition->aggregates)
			{
				CVAggregate *aggregate = lfirst(cell);

				if (aggregate->exactDistinct)
					appendStringInfo(&finals, " UNION ALL %s",
									 ExactDistinctRows(definition, aggregate,
													   PendingDistinctPairs(definition, aggregate,
																			pending), ""));
			}
		}
		appendStringInfoString(&finals, ") u");

		/* the steps that start within the window */
		if (sliding)
		{
			CVGroupKey *step = llast(definition->groupKeys);

			appendStringInfo(&finals, " WHERE u.%s > now() - %s",
							 quote_identifier(step->columnName),
							 IntervalLiteral(definition->slidingWindow));
		}
		if (definition->viewKeyCount > 0)
			appendStringInfo(&finals, " GROUP BY %s", ViewKeyList(definition, "u"));
		appendStringInfoString(&finals, ") c");
	}

	/* expired groups are hidden whether or not they are deleted yet */
	if (ttlColumn != NULL)
		appendStringInfo(&finals, " WHERE coalesce(%s.%s >= now() - %s, true)", qualifier,
						 quote_identifier(ttlColumn), ttlSource);

	rawStatements = raw_parser(finals.data, RAW_PARSE_DEFAULT);
	finalsQuery = parse_analyze_fixedparams(linitial_node(RawStmt, rawStatements), finals.data,
											NULL, 0, NULL);

	/* the user's query, over the finals instead of the source */
	view = copyObject(definition->query);
	mapping.definition = definition;
	mapping.finals = finalsQuery;

	foreach(cell, finalsQuery->targetList)
		columnAliases = lappend(columnAliases,
								makeString(pstrdup(((TargetEntry *) lfirst(cell))->resname)));

	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = finalsQuery;
	rte->alias = makeAlias("v", NIL);
	rte->eref = makeAlias("v", columnAliases);
	rte->inFromCl = true;

	nameCell = list_head(columnNames);
	foreach(cell, view->targetList)
	{
		TargetEntry *entry = lfirst(cell);

		if (entry->resjunk)
			continue;
		entry->expr = (Expr *) MapToFinals((Node *) entry->expr, &mapping);
		entry->resno = list_length(targetList) + 1;
		entry->ressortgroupref = 0;
		entry->resorigtbl = InvalidOid;
		entry->resorigcol = 0;
		if (nameCell != NULL)
		{
			entry->resname = strVal(lfirst(nameCell));
			nameCell = lnext(columnNames, nameCell);
		}
		targetList = lappend(targetList, entry);
	}
	if (nameCell != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("CREATE VIEW specifies more column names than columns")));

	/* as DefineView would, before anything is created */
	foreach(cell, targetList)
	{
		TargetEntry *entry = lfirst(cell);
		ListCell   *other;

		for_each_cell(other, targetList, lnext(targetList, cell))
		{
			if (strcmp(entry->resname, ((TargetEntry *) lfirst(other))->resname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" specified more than once", entry->resname),
						 errhint("Name the view's columns with AS.")));
		}
	}

	reference = makeNode(RangeTblRef);
	reference->rtindex = 1;
	view->rtable = list_make1(rte);
	view->jointree = makeFromExpr(list_make1(reference),
								  MapToFinals(definition->query->havingQual, &mapping));
	view->targetList = targetList;
	view->groupClause = NIL;
	view->havingQual = NULL;
	view->hasAggs = false;
	view->hasSubLinks = false;
	view->constraintDeps = NIL;

	return DeparseQualified(view);
}


/* Replaces group keys and aggregates with the finals' columns */
static Node *
MapToFinals(Node *node, ViewColumnMapping *mapping)
{
	ContinuousViewDefinition *definition = mapping->definition;
	int			position = 0;
	ListCell   *cell;

	if (node == NULL)
		return NULL;

	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		if (key->isWindowStep)
			continue;
		position++;
		if (equal(node, key->expr))
			return (Node *) FinalsColumn(mapping->finals, position);
	}
	position = definition->viewKeyCount == 0 ? 1 : definition->viewKeyCount;

	if (IsA(node, Aggref))
	{
		foreach(cell, definition->aggregates)
		{
			position++;
			if (equal(node, ((CVAggregate *) lfirst(cell))->aggref))
				return (Node *) FinalsColumn(mapping->finals, position);
		}
		elog(ERROR, "aggregate of a continuous view's select list not found");
	}

	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *var = (Var *) node;
		RangeTblEntry *rte = rt_fetch(var->varno, definition->query->rtable);

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot show column \"%s\" outside its GROUP BY",
						get_rte_attribute_name(rte, var->varattno)),
				 errdetail("Only group keys and aggregates are kept."),
				 errhint("Add the column to GROUP BY.")));
	}

	return expression_tree_mutator(node, MapToFinals, mapping);
}


static Var *
FinalsColumn(Query *finals, int position)
{
	TargetEntry *entry = list_nth(finals->targetList, position - 1);

	return makeVar(1, position, exprType((Node *) entry->expr),
				   exprTypmod((Node *) entry->expr), exprCollation((Node *) entry->expr), 0);
}


/* An aggregate's value from its parts, cast to the aggregate's type */
static char *
FinalExpression(CVAggregate *aggregate, const char *qualifier)
{
	char	   *args[CV_MAX_PARTS];

	(void) PartArguments(aggregate, qualifier, args);
	return psprintf("(%s)::%s", FillTemplate(aggregate->finalTemplate, args, aggregate->nparts),
					aggregate->resultType);
}


/* The qualified part columns of an aggregate, as template arguments */
static char *
PartArguments(CVAggregate *aggregate, const char *qualifier, char **args)
{
	for (int i = 0; i < aggregate->nparts; i++)
		args[i] = psprintf("%s.%s", qualifier,
						   quote_identifier(aggregate->parts[i].columnName));
	return args[0];
}


/* The keys the view shows (all but a window's step), qualified; "" for none */
static char *
ViewKeyList(ContinuousViewDefinition *definition, const char *qualifier)
{
	StringInfoData keys;
	ListCell   *cell;

	initStringInfo(&keys);
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		if (key->isWindowStep)
			continue;
		appendStringInfo(&keys, "%s%s.%s", keys.len > 0 ? ", " : "", qualifier,
						 quote_identifier(key->columnName));
	}
	return keys.data;
}


/* The largest value of the source's sequence column's type */
static const char *
IdTypeMaximum(ContinuousViewDefinition *definition)
{
	switch (get_atttype(definition->sourceRelationId, definition->idColumn))
	{
		case INT2OID:
			return "32767";
		case INT4OID:
			return "2147483647";
		default:
			return "9223372036854775807";
	}
}


/* An interval as a typed SQL literal */
char *
IntervalLiteral(Interval *interval)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(interval_out,
														   IntervalPGetDatum(interval)));

	return psprintf("%s::interval", quote_literal_cstr(text));
}


/* The storage's key columns, optionally qualified */
static char *
KeyList(ContinuousViewDefinition *definition, const char *qualifier)
{
	StringInfoData keys;
	ListCell   *cell;

	initStringInfo(&keys);
	if (definition->groupKeys == NIL)
		appendStringInfo(&keys, "%s%s" SINGLE_ROW_COLUMN, qualifier ? qualifier : "",
						 qualifier ? "." : "");
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		appendStringInfo(&keys, "%s%s%s%s", foreach_current_index(cell) > 0 ? ", " : "",
						 qualifier ? qualifier : "", qualifier ? "." : "",
						 quote_identifier(key->columnName));
	}
	return keys.data;
}


/*
 * The states of the aggregates over no rows, one column per part: what a
 * group holds for an aggregate before any row of it, the value an added
 * aggregate starts from in the groups that exist
 */
char *
EmptyStatesQuery(ContinuousViewDefinition *definition, List *aggregates)
{
	StringInfoData query;
	ListCell   *cell;
	bool		first = true;

	initStringInfo(&query);
	appendStringInfoString(&query, "SELECT ");
	foreach(cell, aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
		{
			appendStringInfo(&query, "%s%s", first ? "" : ", ", aggregate->parts[i].batchExpr);
			first = false;
		}
	}
	appendStringInfo(&query, " FROM (%s) b WHERE false",
					 DeparseQualified(BatchRowsQuery(definition)));
	return query.data;
}


/* The storage's columns, keys first, as a list of names */
char *
StateColumnList(ContinuousViewDefinition *definition)
{
	StringInfoData columns;
	ListCell   *cell;

	initStringInfo(&columns);
	appendStringInfoString(&columns, KeyList(definition, NULL));
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
			appendStringInfo(&columns, ", %s", quote_identifier(aggregate->parts[i].columnName));
	}
	return columns.data;
}


/*
 * The column definitions of a delta table: the storage's columns, without
 * its constraints (a group has a row per batch that touched it)
 */
char *
DeltaTableColumns(ContinuousViewDefinition *definition)
{
	StringInfoData columns;

	initStringInfo(&columns);
	AppendStateColumns(&columns, definition, SINGLE_ROW_COLUMN " boolean NOT NULL");
	return columns.data;
}


/*
 * The definitions of the storage's columns, keys first; without GROUP BY,
 * singleRow defines the one key column
 */
static void
AppendStateColumns(StringInfo columns, ContinuousViewDefinition *definition,
				   const char *singleRow)
{
	ListCell   *cell;

	if (definition->groupKeys == NIL)
		appendStringInfoString(columns, singleRow);
	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		appendStringInfo(columns, "%s%s %s%s%s", foreach_current_index(cell) > 0 ? ", " : "",
						 quote_identifier(key->columnName), key->typeName,
						 key->collation ? " COLLATE " : "",
						 key->collation ? key->collation : "");
	}
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
			appendStringInfo(columns, ", %s %s",
							 quote_identifier(aggregate->parts[i].columnName),
							 aggregate->parts[i].typeName);
	}
}


char *
QueryText(Query *query)
{
	return DeparseQualified(query);
}


/*
 * The query's text with every name schema-qualified, so that it means the
 * same whatever search_path the pipeline or a reader runs with.
 */
static char *
DeparseQualified(Query *query)
{
	int			nestLevel = NewGUCNestLevel();
	char	   *text;

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	text = pg_get_querydef(query, false);
	AtEOXact_GUC(true, nestLevel);
	return text;
}
