/*-------------------------------------------------------------------------
 *
 * cv_rollup.c
 *	  Roll-ups: a continuous view whose query reads another continuous view
 *	  (minute -> hour -> day).
 *
 * A continuous view's columns are finished values: an average, a distinct
 * count, a percentile.  Aggregating those again is not exact (an average
 * of averages, a sum of distinct counts), so a roll-up never reads them.
 * Instead, the view it reads appends the states of each batch (the same
 * parts its storage keeps: sums and counts, hll and tdigest sketches) to a
 * delta table, in the batch's own transaction, and the roll-up is a
 * sequence pipeline over that table, whose batches combine the parts with
 * the rules that merge them in the storage.  Its groups are coarser
 * expressions of the view's group columns; each of its aggregates names
 * one aggregate column of the view:
 *
 *	 incremental.combine(c)	the same aggregate, over the coarser groups
 *	 sum(c)					of a count or sum: the same, as sum() types it
 *	 min(c), max(c)			of a min or max
 *
 * The delta table is a stream (src/streams/): its partitions are dropped
 * once every roll-up reading it has processed them.  It is created with
 * the first roll-up, which also regenerates the view's command to append
 * to it, and dropped with the last (incremental._release_rollup_source).
 *
 * A new roll-up starts from the view's storage, which holds every batch
 * so far: under the view's pipeline lock (no batch of the view runs), the
 * storage is copied into the delta table, the roll-up's command runs once
 * over those rows, they are deleted again before anyone could see them,
 * and the roll-up's progress starts after them.  Later batches of the view
 * draw higher delta ids.  This needs READ COMMITTED: every statement must
 * see the batches committed before the lock was granted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog/continuous_view_catalog.h"
#include "common/relation_name.h"
#include "continuous_views/cv_add_column.h"
#include "continuous_views/cv_analyze.h"
#include "continuous_views/cv_create.h"
#include "continuous_views/cv_rollup.h"
#include "continuous_views/cv_sql.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_alter.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/sequence.h"
#include "streams/stream_create.h"

PG_FUNCTION_INFO_V1(incremental_release_rollup_source);
PG_FUNCTION_INFO_V1(incremental_combine_outside_rollup);

/* The delta table's id column, and its partitioning */
#define DELTA_ID_COLUMN "delta_id"
#define DELTA_PARTITION_SIZE 100000
#define DELTA_PARTITIONS_AHEAD 4

struct CVRollupSource
{
	Oid			viewId;
	char	   *viewName;		/* for messages */
	ContinuousViewRecord record;
	ContinuousViewDefinition *definition;	/* of the view, analyzed again */
	char	   *storage;		/* the view's storage, qualified and quoted */
	Oid			deltaTableId;
	char	   *deltaTable;		/* qualified and quoted */
	int			rangeIndex;		/* of the view in the roll-up's query */
	RangeTblEntry *rte;			/* the same, made to read the delta table */

	/* per column of the view: the group key or aggregate it shows, or NULL */
	int			ncolumns;
	CVGroupKey **keys;
	CVAggregate **aggregates;
	char	  **columnNames;
};

static CVRollupSource *FindRollupSource(Query *query);
static ContinuousViewDefinition *AnalyzeReadView(ContinuousViewRecord *record, char **storage);
static void MapViewColumns(CVRollupSource *source);
static void PrepareDeltaTable(CVRollupSource *source);
static void ReadDeltaTable(CVRollupSource *source);
static void RewriteQueryToDeltas(CVRollupSource *source, Query *query);
static Node *DeltaKeyMutator(Node *node, CVRollupSource *source);
static Var *DeltaColumn(CVRollupSource *source, const char *columnName);
static CVAggregate *RolledUpAggregate(CVRollupSource *source, Aggref *aggref, char **column);
static void CheckRollupFunction(CVRollupSource *source, Aggref *aggref, CVAggregate *lower,
								const char *column);
static void LoadRollup(CVRollupSource *source, const char *command, const char *pipelineName);
static void RefuseRollup(CVRollupSource *source, const char *what, const char *hint);
static void RefuseRollupOf(CVRollupSource *source, const char *detail, const char *hint);


CVRollupSource *
PrepareRollupSource(Query *query)
{
	CVRollupSource *source = FindRollupSource(query);
	Pipeline   *pipeline;
	char	   *expected;

	if (source == NULL)
		return NULL;

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("a roll-up must be created in a READ COMMITTED transaction"),
				 errdetail("It starts from the state of continuous view \"%s\" when its "
						   "batches stop for the creation, which a snapshot taken earlier "
						   "does not show.", source->viewName)));

	/* no batch of the view runs from here to our commit */
	pipeline = LockAndReadPipeline(source->record.pipelineName, PIPELINE_ACTION_ALTER);
	if (pipeline->ownerId != GetUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the owner of continuous view \"%s\" can roll it up",
						source->viewName),
				 errdetail("Its batches append to a table the roll-up reads, which the two "
						   "pipelines must share as one owner."),
				 errhint("SET ROLE %s; then create the roll-up.",
						 quote_identifier(GetUserNameFromId(pipeline->ownerId, false)))));

	RefuseWhileBackfilling(source->viewId,
						   "A roll-up starts from the view's storage, which holds the added "
						   "aggregates of only some of its groups until then.");

	source->definition = AnalyzeReadView(&source->record, &source->storage);
	if (OidIsValid(source->record.deltaTableId))
		ReadDeltaTable(source);
	expected = BatchCommand(source->definition, source->storage, source->deltaTable);
	if (strcmp(expected, pipeline->command) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" cannot be rolled up", source->viewName),
				 errdetail("Its command is not the one its query gives now: it was created "
						   "by another version of pg_incremental, or its storage was renamed."),
				 errhint("Create the view again to roll it up.")));

	MapViewColumns(source);
	if (!OidIsValid(source->deltaTableId))
		PrepareDeltaTable(source);
	RewriteQueryToDeltas(source, query);
	return source;
}


/*
 * The continuous view the query reads first, with the checks that need
 * nothing but its catalog row; NULL when the query does not read one.
 */
static CVRollupSource *
FindRollupSource(Query *query)
{
	CVRollupSource *source;
	Node	   *node;
	RangeTblEntry *rte;

	if (query->jointree == NULL || query->jointree->fromlist == NIL)
		return NULL;
	node = linitial(query->jointree->fromlist);
	while (IsA(node, JoinExpr))
		node = ((JoinExpr *) node)->larg;
	if (!IsA(node, RangeTblRef))
		return NULL;
	rte = rt_fetch(((RangeTblRef *) node)->rtindex, query->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_VIEW)
		return NULL;

	source = palloc0(sizeof(CVRollupSource));
	if (!ReadContinuousView(rte->relid, &source->record))
		return NULL;
	source->viewId = rte->relid;
	source->viewName = get_rel_name(rte->relid);
	source->rangeIndex = ((RangeTblRef *) node)->rtindex;
	source->rte = rte;

	if (list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef))
		RefuseRollup(source, "joins",
					 "A roll-up reads one continuous view; join other tables in a plain "
					 "view over the roll-up.");
	if (source->record.slidingWindow != NULL)
		RefuseRollupOf(source, "It keeps a group per step of its sliding window.",
					   "Roll up a view without a window, and read the last minutes or days "
					   "of the roll-up with a WHERE clause.");
	if (source->record.distinctMode != NULL &&
		strcmp(source->record.distinctMode, "exact") == 0)
		RefuseRollupOf(source, "Its exact distinct counts keep the values seen per group "
					   "of the view, which do not combine into coarser groups.",
					   "Create the view with distinct => 'hll', whose sketches combine.");
	return source;
}


Oid
RollupSourceView(CVRollupSource *source)
{
	return source->viewId;
}


/* A roll-up's source is the delta table of the view it reads */
bool
IsRollup(const ContinuousViewRecord *record)
{
	return OidIsValid(ContinuousViewWithDeltaTable(record->sourceRelationId));
}


/* The definition of the view read, from its query as recorded */
static ContinuousViewDefinition *
AnalyzeReadView(ContinuousViewRecord *record, char **storage)
{
	ContinuousViewOptions options = {0};
	Query	   *query = AnalyzeViewQueryText(record->query);
	CVRollupSource *rollup;

	if (query->havingQual != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view with HAVING cannot be rolled up"),
				 errdetail("Its storage keeps the groups HAVING hides, so a roll-up would "
						   "not add up the rows the view shows."),
				 errhint("Create the view without HAVING, and filter in a plain view over "
						 "it or in the roll-up.")));

	options.distinctMode = (char *) record->distinctMode;
	*storage = QualifiedRelationName(record->storageRelationId);

	/* a roll-up itself, read as at its creation: through its source's deltas */
	rollup = FindRollupSource(query);
	if (rollup != NULL)
	{
		rollup->definition = AnalyzeReadView(&rollup->record, &rollup->storage);
		if (!OidIsValid(rollup->record.deltaTableId))
			elog(ERROR, "continuous view \"%s\" has no delta table", rollup->viewName);
		ReadDeltaTable(rollup);
		MapViewColumns(rollup);
		RewriteQueryToDeltas(rollup, query);
	}
	return AnalyzeContinuousViewQuery(query, &options, rollup);
}


/*
 * What each column of the view shows: its columns are the query's select
 * list (renamed, maybe), each a group key, an aggregate or an expression
 * computed from them.
 */
static void
MapViewColumns(CVRollupSource *source)
{
	ContinuousViewDefinition *definition = source->definition;
	Relation	view = relation_open(source->viewId, AccessShareLock);
	TupleDesc	descriptor = RelationGetDescr(view);
	int			column = 0;
	ListCell   *cell;

	source->ncolumns = descriptor->natts;
	source->keys = palloc0(sizeof(CVGroupKey *) * descriptor->natts);
	source->aggregates = palloc0(sizeof(CVAggregate *) * descriptor->natts);
	source->columnNames = palloc0(sizeof(char *) * descriptor->natts);
	for (int i = 0; i < descriptor->natts; i++)
		source->columnNames[i] = pstrdup(NameStr(TupleDescAttr(descriptor, i)->attname));
	relation_close(view, AccessShareLock);

	foreach(cell, definition->query->targetList)
	{
		TargetEntry *entry = lfirst(cell);
		ListCell   *match;

		if (entry->resjunk)
			continue;
		if (column >= source->ncolumns)
			break;
		if (IsA(entry->expr, Aggref))
		{
			foreach(match, definition->aggregates)
			{
				CVAggregate *aggregate = lfirst(match);

				if (equal(aggregate->aggref, entry->expr))
					source->aggregates[column] = aggregate;
			}
		}
		else
		{
			foreach(match, definition->groupKeys)
			{
				CVGroupKey *key = lfirst(match);

				if (!key->isWindowStep && equal(key->expr, entry->expr))
					source->keys[column] = key;
			}
		}
		column++;
	}
}


/*
 * The first roll-up of a view: the delta table, and the view's command
 * regenerated to append each batch's states to it
 */
static void
PrepareDeltaTable(CVRollupSource *source)
{
	Oid			namespaceId = get_rel_namespace(source->viewId);
	char	   *name = psprintf("%.*s_deltas", NAMEDATALEN - 1 - 7, source->viewName);
	StreamDefinition stream = {0};

	if (OidIsValid(get_relname_relid(name, namespaceId)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name),
				 errdetail("The batches of continuous view \"%s\" append their states for "
						   "its roll-ups to a table named after it, with the suffix _deltas.",
						   source->viewName),
				 errhint("Rename \"%s\".", name)));

	stream.idColumn = DELTA_ID_COLUMN;
	stream.dropConsumed = true;
	stream.partitionSize = DELTA_PARTITION_SIZE;
	stream.partitionsAhead = DELTA_PARTITIONS_AHEAD;
	source->deltaTableId = CreateStream(makeRangeVar(get_namespace_name(namespaceId), name, -1),
										DeltaTableColumns(source->definition), &stream);
	source->deltaTable = QualifiedRelationName(source->deltaTableId);

	ReplaceGeneratedCommand(source->record.pipelineName,
							BatchCommand(source->definition, source->storage,
										 source->deltaTable));
	SetContinuousViewDeltaTable(source->viewId, source->deltaTableId);
}


static void
ReadDeltaTable(CVRollupSource *source)
{
	Oid			deltaId = source->record.deltaTableId;

	if (get_rel_relkind(deltaId) == '\0')
		elog(ERROR, "the delta table of continuous view \"%s\" no longer exists",
			 source->viewName);
	source->deltaTableId = deltaId;
	source->deltaTable = QualifiedRelationName(deltaId);
}


/*
 * The roll-up's query, made to read the delta table: its group keys and
 * WHERE use the view's group columns, which the delta table has under the
 * same names.  The aggregates stay as written: RollupArguments reads them.
 */
static void
RewriteQueryToDeltas(CVRollupSource *source, Query *query)
{
	RangeTblEntry *rte = source->rte;
	Relation	delta;
	List	   *columnNames = NIL;
	ListCell   *cell;

	if (rte->alias != NULL && rte->alias->colnames != NIL)
		RefuseRollup(source, "column aliases in FROM",
					 "Rename the columns in the roll-up's select list instead.");
	if (query->hasSubLinks)
		RefuseRollup(source, "subqueries",
					 "Filter by the view's group columns with plain conditions.");

	delta = relation_open(source->deltaTableId, AccessShareLock);
	for (int i = 0; i < RelationGetDescr(delta)->natts; i++)
		columnNames = lappend(columnNames,
							  makeString(pstrdup(NameStr(TupleDescAttr(RelationGetDescr(delta),
																	   i)->attname))));
	relation_close(delta, AccessShareLock);

	rte->relid = source->deltaTableId;
	rte->relkind = RELKIND_PARTITIONED_TABLE;
	rte->rellockmode = AccessShareLock;
	rte->inh = true;
	rte->eref = makeAlias(rte->eref->aliasname, columnNames);
	rte->requiredPerms = ACL_SELECT;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = NULL;
	rte->insertedCols = NULL;
	rte->updatedCols = NULL;

	foreach(cell, query->targetList)
	{
		TargetEntry *entry = lfirst(cell);

		entry->expr = (Expr *) DeltaKeyMutator((Node *) entry->expr, source);
	}
	query->havingQual = DeltaKeyMutator(query->havingQual, source);
	query->jointree->quals = DeltaKeyMutator(query->jointree->quals, source);
}


/* Replaces the view's group columns, outside aggregates, by the delta table's */
static Node *
DeltaKeyMutator(Node *node, CVRollupSource *source)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Aggref))
		return node;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		int			column = var->varattno - 1;

		if (var->varno != source->rangeIndex || var->varlevelsup != 0)
			return node;
		if (column < 0 || column >= source->ncolumns)
			RefuseRollup(source, "a whole-row reference to the view",
						 "Name the view's group columns.");
		if (source->keys[column] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a roll-up can group and filter by the group columns of continuous "
							"view \"%s\" only", source->viewName),
					 errdetail("Column \"%s\" is %s.", source->columnNames[column],
							   source->aggregates[column] != NULL ? "an aggregate" :
							   "computed from the view's aggregates"),
					 errhint("Aggregate columns are read through sum(), min(), max() or "
							 "incremental.combine().")));
		return (Node *) DeltaColumn(source, source->keys[column]->columnName);
	}
	return expression_tree_mutator(node, DeltaKeyMutator, source);
}


/* A Var of the delta table's column, which the query now reads */
static Var *
DeltaColumn(CVRollupSource *source, const char *columnName)
{
	AttrNumber	attno = get_attnum(source->deltaTableId, columnName);
	Oid			typeId;
	int32		typmod;
	Oid			collationId;

	if (attno == InvalidAttrNumber)
		elog(ERROR, "delta table of continuous view \"%s\" has no column \"%s\"",
			 source->viewName, columnName);
	get_atttypetypmodcoll(source->deltaTableId, attno, &typeId, &typmod, &collationId);
	source->rte->selectedCols = bms_add_member(source->rte->selectedCols,
											   attno - FirstLowInvalidHeapAttributeNumber);
	return makeVar(source->rangeIndex, attno, typeId, typmod, collationId, 0);
}


List *
RollupArguments(CVRollupSource *source, Aggref *aggref)
{
	char	   *column;
	CVAggregate *lower = RolledUpAggregate(source, aggref, &column);
	List	   *arguments = NIL;

	CheckRollupFunction(source, aggref, lower, column);
	for (int i = 0; i < lower->nparts; i++)
		arguments = lappend(arguments, DeltaColumn(source, lower->parts[i].columnName));
	return arguments;
}


void
ApplyRollupRule(CVRollupSource *source, CVAggregate *aggregate, CVRuleInput *input)
{
	char	   *column;
	CVAggregate *lower = RolledUpAggregate(source, input->aggref, &column);
	char	   *arguments[CV_MAX_PARTS];
	ListCell   *cell;

	Assert(list_length(input->argumentColumns) == lower->nparts);
	foreach(cell, input->argumentColumns)
		arguments[foreach_current_index(cell)] = lfirst(cell);

	/* a combine template reads the parts by position, as over stored rows */
	aggregate->ruleName = lower->ruleName;
	aggregate->nparts = lower->nparts;
	for (int i = 0; i < lower->nparts; i++)
	{
		CVStatePart *part = &aggregate->parts[i];

		*part = lower->parts[i];
		part->columnName = NULL;
		part->batchExpr = FillTemplate(lower->parts[i].combineTemplate, arguments,
									   lower->nparts);
	}
	aggregate->finalTemplate = lower->finalTemplate;
	aggregate->resultType = SqlTypeName(input->aggref->aggtype, -1, InvalidOid);
}


/* The view's aggregate that an aggregate of the roll-up reads, and its column */
static CVAggregate *
RolledUpAggregate(CVRollupSource *source, Aggref *aggref, char **column)
{
	Expr	   *argument;
	Var		   *var;

	if (list_length(aggref->args) != 1 || aggref->aggfilter != NULL ||
		aggref->aggdistinct != NIL || aggref->aggorder != NIL || aggref->aggdirectargs != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an aggregate of a roll-up takes one column of continuous view \"%s\"",
						source->viewName),
				 errdetail("It combines the states kept for that column, without DISTINCT, "
						   "ORDER BY or FILTER."),
				 errhint("Write incremental.combine(column), or sum(), min() or max() of a "
						 "count, sum, min or max column.")));

	argument = ((TargetEntry *) linitial(aggref->args))->expr;
	var = IsA(argument, Var) ? (Var *) argument : NULL;
	if (var == NULL || var->varno != source->rangeIndex || var->varlevelsup != 0 ||
		var->varattno < 1 || var->varattno > source->ncolumns ||
		source->aggregates[var->varattno - 1] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an aggregate of a roll-up must read an aggregate column of continuous "
						"view \"%s\"", source->viewName),
				 var != NULL && var->varno == source->rangeIndex && var->varattno >= 1 &&
				 var->varattno <= source->ncolumns ?
				 errdetail("Column \"%s\" is %s.", source->columnNames[var->varattno - 1],
						   source->keys[var->varattno - 1] != NULL ? "a group column" :
						   "computed from the view's aggregates") :
				 errdetail("Its argument is an expression, not a column of the view."),
				 errhint("Roll up the aggregates themselves, and compute expressions over "
						 "them in the roll-up's select list.")));

	*column = source->columnNames[var->varattno - 1];
	return source->aggregates[var->varattno - 1];
}


/*
 * incremental.combine() merges any aggregate's state; sum(), min() and
 * max() are accepted where they mean the same, over a count or sum, a min
 * or a max.
 */
static void
CheckRollupFunction(CVRollupSource *source, Aggref *aggref, CVAggregate *lower,
					const char *column)
{
	char	   *name = get_func_name(aggref->aggfnoid);
	Oid			namespaceId = get_func_namespace(aggref->aggfnoid);
	bool		plain = lower->nparts == 1 && lower->aggref->aggdistinct == NIL &&
		!lower->exactDistinct;

	if (namespaceId == get_namespace_oid("incremental", false) && strcmp(name, "combine") == 0)
		return;
	if (namespaceId == PG_CATALOG_NAMESPACE && plain)
	{
		if (strcmp(name, "sum") == 0 &&
			(strcmp(lower->ruleName, "count") == 0 || strcmp(lower->ruleName, "sum") == 0))
			return;
		if ((strcmp(name, "min") == 0 || strcmp(name, "max") == 0) &&
			strcmp(lower->ruleName, name) == 0)
			return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a roll-up cannot compute %s over column \"%s\" of continuous view \"%s\"",
					name, column, source->viewName),
			 errdetail("Column \"%s\" keeps %s(); a roll-up combines that state, and %s() "
					   "of its values would not be the same.", column, lower->ruleName, name),
			 errhint("Write incremental.combine(%s).", quote_identifier(column))));
}


void
StartRollup(CVRollupSource *source, const char *pipelineName, const char *command)
{
	Datum		parent = CStringGetTextDatum(source->record.pipelineName);

	/* it runs right after the view's batches, in the same scheduler round */
	SetPipelineDependsOn(LockAndReadPipeline(pipelineName, PIPELINE_ACTION_ALTER),
						 construct_array(&parent, 1, TEXTOID, -1, false, TYPALIGN_INT));
	LoadRollup(source, command, pipelineName);
}


/*
 * The roll-up's first state: its command run over a copy of the view's
 * storage in the delta table, deleted again before anyone can see it
 */
static void
LoadRollup(CVRollupSource *source, const char *command, const char *pipelineName)
{
	char	   *columns = StateColumnList(source->definition);
	Oid			argumentTypes[2] = {INT8OID, INT8OID};
	Datum		range[2];
	bool		isNull;
	int64		lastProcessed;
	Oid			tableId;
	Oid			sequenceId;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (SPI_execute(psprintf("WITH copied AS (INSERT INTO %s (%s) SELECT %s FROM %s "
							 "RETURNING " DELTA_ID_COLUMN ") "
							 "SELECT min(" DELTA_ID_COLUMN "), max(" DELTA_ID_COLUMN ") "
							 "FROM copied",
							 source->deltaTable, columns, columns, source->storage),
					false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not copy the storage of continuous view \"%s\"", source->viewName);
	range[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isNull);
	range[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isNull);

	if (!isNull)
	{
		if (SPI_execute_with_args(command, 2, argumentTypes, range, NULL, false, 0) < 0)
			elog(ERROR, "could not load roll-up \"%s\"", pipelineName);
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE " DELTA_ID_COLUMN
										   " BETWEEN $1 AND $2", source->deltaTable),
								  2, argumentTypes, range, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the copy of continuous view \"%s\"",
				 source->viewName);
		lastProcessed = DatumGetInt64(range[1]);
		SPI_finish();
		SetSequencePipelineProgress(pipelineName, lastProcessed);
		return;
	}
	SPI_finish();

	/* an empty storage: every delta so far is in it, if only as an expired group */
	ResolveSourceSequence(source->deltaTableId, &tableId, &sequenceId);
	if (ReadSequenceLastValue(sequenceId, &lastProcessed))
		SetSequencePipelineProgress(pipelineName, lastProcessed);
}


/*
 * incremental._release_rollup_source(delta regclass), from the event
 * trigger that notices dropped continuous views: once no roll-up reads a
 * delta table, the view's batches stop appending to it and it is dropped.
 */
Datum
incremental_release_rollup_source(PG_FUNCTION_ARGS)
{
	Oid			deltaId = PG_GETARG_OID(0);
	ContinuousViewRecord record;
	ContinuousViewDefinition *definition;
	Oid			viewId;
	char	   *storage;

	if (ContinuousViewReadsSource(deltaId))
		PG_RETURN_VOID();
	viewId = ContinuousViewWithDeltaTable(deltaId);
	if (!OidIsValid(viewId) || !ReadContinuousView(viewId, &record))
		PG_RETURN_VOID();

	definition = AnalyzeReadView(&record, &storage);
	ReplaceGeneratedCommand(record.pipelineName, BatchCommand(definition, storage, NULL));
	SetContinuousViewDeltaTable(viewId, InvalidOid);

	if (get_rel_relkind(deltaId) != '\0')
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ExecuteGenerated(psprintf("DROP TABLE %s", QualifiedRelationName(deltaId)));
		SPI_finish();
	}
	PG_RETURN_VOID();
}


/*
 * The transition function of incremental.combine(): the aggregate means
 * something only in a roll-up's query, which never runs it.
 */
Datum
incremental_combine_outside_rollup(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incremental.combine() can be used only in the query of a continuous view "
					"that reads another continuous view"),
			 errdetail("It combines the states the other view keeps, not the values it shows."),
			 errhint("Create a roll-up with incremental.create_continuous_view.")));
	PG_RETURN_NULL();
}


static void
RefuseRollup(CVRollupSource *source, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a roll-up of continuous view \"%s\" cannot contain %s",
					source->viewName, what),
			 hint ? errhint("%s", hint) : 0));
}


static void
RefuseRollupOf(CVRollupSource *source, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("continuous view \"%s\" cannot be rolled up", source->viewName),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}
