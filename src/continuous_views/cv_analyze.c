/*-------------------------------------------------------------------------
 *
 * cv_analyze.c
 *	  Checks a continuous view's query and finds what its storage keeps:
 *	  the source table and its sequence, the GROUP BY keys, the aggregates
 *	  with their rules, and the batch columns the aggregates read.
 *
 * The query is one SELECT whose first table in FROM is the source, read
 * batch by batch by ranges of its sequence; other tables in FROM are
 * looked up when a batch is processed.  Whatever would make the result of
 * a batch depend on when it ran, or on rows outside the batch, is refused
 * here with a message naming the part of the query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_clause.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "continuous_views/cv_analyze.h"
#include "continuous_views/cv_rules.h"
#include "continuous_views/cv_window.h"
#include "pipelines/sequence.h"

static void CheckQueryShape(Query *query);
static int	FindSourceRangeIndex(Query *query);
static bool SourceIsNullable(Node *jointreeNode, int sourceIndex, bool nullable,
							 bool *found);
static void FindSourceSequence(ContinuousViewDefinition *definition);
static void CheckNoTemporaryRelations(Query *query);
static void AddGroupKeys(ContinuousViewDefinition *definition, List **names);
static bool CollectAggregates(Node *node, List **aggrefs);
static char *AddBatchColumn(ContinuousViewDefinition *definition, Expr *expr);
static char *AggregateName(Query *query, Aggref *aggref, int number);
static void Refuse(const char *what, const char *hint);
static void CheckNoCurrentTime(ContinuousViewDefinition *definition);


ContinuousViewDefinition *
AnalyzeContinuousViewQuery(Query *query, ContinuousViewOptions *options,
						   CVRollupSource *rollup)
{
	ContinuousViewDefinition *definition = palloc0(sizeof(ContinuousViewDefinition));
	List	   *aggrefs = NIL;
	List	   *names = NIL;
	List	   *finalNames;
	ListCell   *cell;
	int			number = 0;
	Node	   *windowColumn;

	definition->query = query;
	definition->distinctMode = options->distinctMode;

	/* PipelineDB's WHERE t > clock_timestamp() - interval '5 minutes' */
	windowColumn = TakeSlidingWindowCondition(query, &definition->slidingWindow);

	CheckQueryShape(query);
	CheckNoTemporaryRelations(query);

	definition->sourceRangeIndex = FindSourceRangeIndex(query);
	definition->sourceRelationId = rt_fetch(definition->sourceRangeIndex, query->rtable)->relid;
	FindSourceSequence(definition);

	AddGroupKeys(definition, &names);
	definition->viewKeyCount = list_length(definition->groupKeys);
	AddWindowStep(definition, options, windowColumn, &names);
	if (definition->viewKeyCount == 0)
		names = lappend(names, "single_row");	/* the storage's key column */
	finalNames = list_copy(names);

	CollectAggregates((Node *) query->targetList, &aggrefs);
	CollectAggregates(query->havingQual, &aggrefs);

	foreach(cell, aggrefs)
	{
		Aggref	   *aggref = lfirst(cell);
		CVAggregate *aggregate = palloc0(sizeof(CVAggregate));
		CVRuleInput input = {0};
		ListCell   *argumentCell;

		input.aggref = aggref;
		aggregate->aggref = aggref;
		aggregate->name = AggregateName(query, aggref, ++number);
		if (rollup != NULL)
		{
			/* a batch combines the state parts of the delta rows */
			foreach(argumentCell, RollupArguments(rollup, aggref))
				input.argumentColumns = lappend(input.argumentColumns,
												AddBatchColumn(definition, lfirst(argumentCell)));
			ApplyRollupRule(rollup, aggregate, &input);
		}
		else
		{
			foreach(argumentCell, aggref->args)
			{
				TargetEntry *argument = lfirst(argumentCell);

				input.argumentColumns = lappend(input.argumentColumns,
												AddBatchColumn(definition, argument->expr));
			}
			if (aggref->aggfilter != NULL)
				input.filterColumn = AddBatchColumn(definition, aggref->aggfilter);
			ApplyAggregateRule(definition, aggregate, &input);
		}
		aggregate->finalName = UniqueColumnName(aggregate->name, &finalNames);

		for (int i = 0; i < aggregate->nparts; i++)
		{
			CVStatePart *part = &aggregate->parts[i];

			/* a single part that is the value itself takes the plain name */
			if (aggregate->nparts == 1 && strcmp(part->typeName, aggregate->resultType) == 0)
				part->columnName = UniqueColumnName(aggregate->name, &names);
			else
				part->columnName = UniqueColumnName(psprintf("%s_%s", aggregate->name, part->suffix),
											  &names);
		}
		definition->aggregates = lappend(definition->aggregates, aggregate);
	}

	CheckNoCurrentTime(definition);

	if (definition->aggregates == NIL && definition->groupKeys == NIL)
		Refuse("a query without aggregates or GROUP BY",
			   "A continuous view keeps a summary of its source: aggregate the rows, "
			   "for example with count(*) ... GROUP BY.  To copy or transform rows, use a "
			   "sequence pipeline.");

	return definition;
}


/*
 * CheckQueryShape refuses the parts of a query that no batch can compute
 * for its own rows alone.
 */
static void
CheckQueryShape(Query *query)
{
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		Refuse("a statement other than SELECT", "Give the view's SELECT query.");
	if (query->setOperations != NULL)
		Refuse("UNION, INTERSECT or EXCEPT",
			   "Create one continuous view per query, and combine them in a plain view.");
	if (query->cteList != NIL)
		Refuse("WITH queries",
			   "Put the source table first in FROM; other tables may be joined as "
			   "subqueries or views.");
	if (query->hasWindowFuncs)
		Refuse("window functions",
			   "Apply window functions when reading the view, in a query over it.");
	if (query->hasDistinctOn)
		Refuse("DISTINCT ON", "Use GROUP BY, or apply DISTINCT ON in a query over the view.");
	if (query->distinctClause != NIL)
		Refuse("SELECT DISTINCT", "Use GROUP BY over the same columns instead.");
	if (query->sortClause != NIL)
		Refuse("ORDER BY", "Order the rows when reading the view.");
	if (query->limitCount != NULL || query->limitOffset != NULL)
		Refuse("LIMIT or OFFSET", "Apply LIMIT when reading the view.");
	if (query->rowMarks != NIL)
		Refuse("FOR UPDATE or FOR SHARE", NULL);
	if (query->hasTargetSRFs)
		Refuse("set-returning functions in the select list",
			   "Call the function in FROM (as a LATERAL join) instead.");
	if (query->groupingSets != NIL)
		Refuse("GROUPING SETS, ROLLUP or CUBE",
			   "Create one continuous view per grouping; coarser groupings can be "
			   "computed from the finest one's storage.");
	if (checkExprHasSubLink((Node *) query->targetList) ||
		checkExprHasSubLink(query->havingQual))
		Refuse("subqueries in the select list or HAVING",
			   "Join the subquery's table in FROM instead.");
	if (query->jointree == NULL || query->jointree->fromlist == NIL)
		Refuse("a query without a FROM clause", "Aggregate a table with a sequence.");

	if (contain_volatile_functions((Node *) query->jointree) ||
		contain_volatile_functions((Node *) query->targetList) ||
		contain_volatile_functions(query->havingQual))
		Refuse("volatile functions, such as random() or clock_timestamp()",
			   "A batch would compute a different result than the same rows gave "
			   "before: use only stable or immutable expressions.");
}


/*
 * The source is the first table in FROM: the leftmost relation of the
 * first FROM item.  It must be a table, and no outer join may add rows for
 * which it has none (those rows would belong to no batch).
 */
static int
FindSourceRangeIndex(Query *query)
{
	Node	   *node = linitial(query->jointree->fromlist);
	RangeTblEntry *rte;
	int			sourceIndex;
	bool		found = false;

	while (IsA(node, JoinExpr))
		node = ((JoinExpr *) node)->larg;

	if (!IsA(node, RangeTblRef))
		Refuse("a FROM clause that does not start with a table",
			   "Put the source table first in FROM.");

	sourceIndex = ((RangeTblRef *) node)->rtindex;
	rte = rt_fetch(sourceIndex, query->rtable);
	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
		Refuse("a source that is not a table",
			   "The first item in FROM must be the table whose new rows the view "
			   "aggregates, with a serial or identity column.");
	if (rte->tablesample != NULL)
		Refuse("TABLESAMPLE", NULL);

	if (SourceIsNullable((Node *) query->jointree, sourceIndex, false, &found))
		Refuse("an outer join that keeps rows without a source row",
			   "Join the source with INNER JOIN or as the left side of LEFT JOIN.");

	return sourceIndex;
}


/* Whether the source is on the nullable side of an outer join */
static bool
SourceIsNullable(Node *node, int sourceIndex, bool nullable, bool *found)
{
	if (IsA(node, RangeTblRef))
	{
		if (((RangeTblRef *) node)->rtindex == sourceIndex)
		{
			*found = true;
			return nullable;
		}
		return false;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		bool		leftNullable = nullable || join->jointype == JOIN_RIGHT ||
			join->jointype == JOIN_FULL;
		bool		rightNullable = nullable || join->jointype == JOIN_LEFT ||
			join->jointype == JOIN_FULL;

		return SourceIsNullable(join->larg, sourceIndex, leftNullable, found) ||
			SourceIsNullable(join->rarg, sourceIndex, rightNullable, found);
	}
	if (IsA(node, FromExpr))
	{
		ListCell   *cell;

		foreach(cell, ((FromExpr *) node)->fromlist)
		{
			if (SourceIsNullable(lfirst(cell), sourceIndex, nullable, found))
				return true;
		}
	}
	return false;
}


/* The sequence a sequence pipeline on the source follows, and its column */
static void
FindSourceSequence(ContinuousViewDefinition *definition)
{
	Oid			tableId;

	ResolveSourceSequence(definition->sourceRelationId, &tableId, &definition->sequenceId);
	definition->idColumn = SequenceOwnerColumn(definition->sequenceId, &tableId);
}


/* The pipeline runs in its own session, where no temporary table exists */
static void
CheckNoTemporaryRelations(Query *query)
{
	ListCell   *cell;

	foreach(cell, query->rtable)
	{
		RangeTblEntry *rte = lfirst(cell);

		if (rte->rtekind == RTE_RELATION &&
			isAnyTempNamespace(get_rel_namespace(rte->relid)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view cannot read the temporary table \"%s\"",
							get_rel_name(rte->relid)),
					 errdetail("Its batches run in other sessions, which do not see "
							   "this session's temporary tables.")));
	}
}


/* The GROUP BY keys, each a key column of the storage */
static void
AddGroupKeys(ContinuousViewDefinition *definition, List **names)
{
	Query	   *query = definition->query;
	ListCell   *cell;
	int			number = 0;

	foreach(cell, query->groupClause)
	{
		SortGroupClause *clause = lfirst(cell);
		TargetEntry *entry = get_sortgroupclause_tle(clause, query->targetList);
		CVGroupKey *key = palloc0(sizeof(CVGroupKey));
		Oid			typeId = exprType((Node *) entry->expr);
		Oid			collationId = exprCollation((Node *) entry->expr);

		number++;
		if (!OidIsValid(GetDefaultOpClass(typeId, BTREE_AM_OID)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view cannot group by a value of type %s",
							format_type_be(typeId)),
					 errdetail("The storage keeps one row per group under a unique index, "
							   "and type %s has no btree operator class.",
							   format_type_be(typeId)),
					 errhint("Group by an expression of a comparable type, such as a cast "
							 "to text.")));

		key->expr = entry->expr;
		key->columnName = UniqueColumnName(!entry->resjunk && entry->resname != NULL ?
									 entry->resname : psprintf("key_%d", number), names);
		key->typeName = format_type_extended(typeId, exprTypmod((Node *) entry->expr),
											 FORMAT_TYPE_TYPEMOD_GIVEN |
											 FORMAT_TYPE_FORCE_QUALIFY);
		if (OidIsValid(collationId) && collationId != get_typcollation(typeId))
			key->collation = generate_collation_name(collationId);
		definition->groupKeys = lappend(definition->groupKeys, key);
	}
}


/* The distinct aggregate calls of an expression tree, in order */
static bool
CollectAggregates(Node *node, List **aggrefs)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		ListCell   *cell;

		foreach(cell, *aggrefs)
		{
			if (equal(lfirst(cell), node))
				return false;
		}
		*aggrefs = lappend(*aggrefs, node);
		return false;
	}
	return expression_tree_walker(node, CollectAggregates, aggrefs);
}


/* A column of the batch's rows that holds an expression, shared by equals */
static char *
AddBatchColumn(ContinuousViewDefinition *definition, Expr *expr)
{
	CVBatchColumn *column;
	ListCell   *cell;

	foreach(cell, definition->batchColumns)
	{
		column = lfirst(cell);
		if (equal(column->expr, expr))
			return (char *) quote_identifier(column->name);
	}

	column = palloc0(sizeof(CVBatchColumn));
	column->expr = expr;
	column->name = psprintf("$a%d", list_length(definition->batchColumns) + 1);
	definition->batchColumns = lappend(definition->batchColumns, column);
	return (char *) quote_identifier(column->name);
}


/*
 * An aggregate that is a whole output column is named after it; others
 * (in expressions or HAVING) after their function.
 */
static char *
AggregateName(Query *query, Aggref *aggref, int number)
{
	ListCell   *cell;

	foreach(cell, query->targetList)
	{
		TargetEntry *entry = lfirst(cell);

		if (!entry->resjunk && entry->resname != NULL &&
			strcmp(entry->resname, "?column?") != 0 && equal(entry->expr, aggref))
			return entry->resname;
	}
	return psprintf("%s_%d", get_func_name(aggref->aggfnoid), number);
}


/* A column name not taken yet, within NAMEDATALEN */
char *
UniqueColumnName(const char *base, List **names)
{
	char	   *name = pnstrdup(base, NAMEDATALEN - 1);

	for (int suffix = 2;; suffix++)
	{
		bool		taken = false;
		ListCell   *cell;

		foreach(cell, *names)
		{
			if (strcmp(lfirst(cell), name) == 0)
			{
				taken = true;
				break;
			}
		}
		if (!taken)
			break;
		name = psprintf("%.*s_%d", NAMEDATALEN - 12, base, suffix);
	}
	*names = lappend(*names, name);
	return name;
}


/*
 * What a batch computes must not depend on when it runs: the current time
 * in WHERE, in a group key or in an aggregate's argument would be the
 * batch's, not the row's.  (The select list outside aggregates and HAVING
 * are evaluated when the view is read, where now() means now.)
 */
static void
CheckNoCurrentTime(ContinuousViewDefinition *definition)
{
	bool		found = ContainsCurrentTime((Node *) definition->query->jointree);
	ListCell   *cell;

	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);

		if (!key->isWindowStep)
			found |= ContainsCurrentTime((Node *) key->expr);
	}
	foreach(cell, definition->batchColumns)
		found |= ContainsCurrentTime((Node *) ((CVBatchColumn *) lfirst(cell))->expr);

	if (found)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot use the current time in WHERE, GROUP BY or "
						"an aggregate's arguments"),
				 errdetail("A batch would compute it when it runs, not when the row arrived."),
				 errhint("For the last minutes or days, write \"WHERE t > clock_timestamp() - "
						 "interval '5 minutes'\" at the top of WHERE: a sliding window.  In the "
						 "select list outside aggregates and in HAVING, now() is the time of "
						 "reading.")));
}


static void
Refuse(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a continuous view cannot contain %s", what),
			 errdetail("A continuous view is kept up to date batch by batch, each batch "
					   "merging the aggregates of its new rows into the stored ones."),
			 hint ? errhint("%s", hint) : 0));
}
