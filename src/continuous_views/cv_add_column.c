/*-------------------------------------------------------------------------
 *
 * cv_add_column.c
 *	  CALL incremental.add_continuous_view_column(view, columns): new
 *	  aggregates for a continuous view, kept by its batches from then on and
 *	  backfilled into its existing groups; and CALL
 *	  incremental.backfill_continuous_view(view), which finishes a backfill
 *	  that was interrupted.
 *
 * The change is made in one transaction, under the view's pipeline lock,
 * so that no batch runs meanwhile: the new select-list items join the
 * view's query, the storage gets the new state columns, holding in every
 * existing group the state of no rows (0 for a count, NULL for a sum), the
 * view is replaced, and the pipeline's command regenerated, so every batch
 * after it keeps the new aggregates.  The rows processed before it, up to
 * the pipeline's progress then (backfill_through), are merged into the new
 * columns by a backfill, in committed batches of max_batch_size rows, each
 * recording how far it got in incremental.continuous_view_backfills, in the
 * same transaction as its merge: a crash or a cancel loses nothing and
 * merges nothing twice, and backfill_continuous_view goes on from there.
 * Both merges add to the same states, in any order.  On Citus, where each
 * node group draws ids from a range of its own and the pipeline keeps a
 * progress per group, each group's range processed so far is a backfill
 * of its own, run one after the other.
 *
 * Only the rows still in the source can be backfilled: valid_from is the
 * first id the source still had.  A source with retention drops the rows
 * its consumers have processed, which the backfill's batches would not
 * see: there the backfill runs in one transaction, whose locks keep the
 * retention from dropping the partitions it has yet to read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog/catalog_version.h"
#include "catalog/continuous_view_catalog.h"
#include "common/relation_name.h"
#include "continuous_views/cv_add_column.h"
#include "continuous_views/cv_analyze.h"
#include "continuous_views/cv_create.h"
#include "continuous_views/cv_dependencies.h"
#include "continuous_views/cv_maintenance.h"
#include "continuous_views/cv_placement.h"
#include "continuous_views/cv_sql.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_alter.h"
#include "pipelines/sequence.h"
#include "streams/stream_retention.h"

PG_FUNCTION_INFO_V1(incremental_add_continuous_view_column);
PG_FUNCTION_INFO_V1(incremental_backfill_continuous_view);

/* A continuous view as this file changes it */
typedef struct AlteredView
{
	ContinuousViewRecord record;
	char	   *storage;		/* qualified and quoted */
	char	   *deltaTable;		/* the same, or NULL */
	char	   *viewName;		/* qualified and quoted */
} AlteredView;

static void AddColumns(Oid viewId, const char *columns);
static void ReadAlteredView(Oid viewId, AlteredView *view);
static char *QueryTextWithColumns(const char *queryText, const char *columns);
static List *ParseShowingQuery(const char *text);
static void ShowQueryOfError(void *arg);
static List *AddedAggregates(ContinuousViewDefinition *before,
							 ContinuousViewDefinition *after);
static List *NewColumnNames(AlteredView *view, Query *query, List **allNames);
static void AddStateColumns(AlteredView *view, ContinuousViewDefinition *definition,
							List *added);
static void ReplaceView(AlteredView *view, ContinuousViewDefinition *definition,
						List *columnNames, const char *queryText);
static int64 FirstSourceId(ContinuousViewDefinition *definition, int64 from, int64 through);
static void AddBackfillRange(Oid viewId, ContinuousViewBackfill *backfill,
							 ContinuousViewDefinition *definition, int64 from, int64 through);
static void RunBackfill(Oid viewId, bool allowCommit);


/* CALL incremental.add_continuous_view_column(view_name, columns) */
Datum
incremental_add_continuous_view_column(PG_FUNCTION_ARGS)
{
	bool		allowCommit = CallMayCommit(fcinfo);
	Oid			viewId;
	char	   *columns;

	CheckInstalledVersion();
	CheckArgumentNotNull(fcinfo, 0, "view_name");
	viewId = PG_GETARG_OID(0);
	columns = GetTextArgument(fcinfo, 1, "columns");

	if (allowCommit && SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	AddColumns(viewId, columns);
	if (allowCommit)
	{
		/* the new columns, the command and the backfill to do, committed */
		SPI_commit();
		XactIsoLevel = XACT_READ_COMMITTED;
	}
	RunBackfill(viewId, allowCommit);

	if (allowCommit)
		SPI_finish();
	PG_RETURN_VOID();
}


/* CALL incremental.backfill_continuous_view(view_name) */
Datum
incremental_backfill_continuous_view(PG_FUNCTION_ARGS)
{
	bool		allowCommit = CallMayCommit(fcinfo);
	AlteredView view;

	CheckInstalledVersion();
	CheckArgumentNotNull(fcinfo, 0, "view_name");
	ReadAlteredView(PG_GETARG_OID(0), &view);
	(void) LockAndReadPipeline(view.record.pipelineName, PIPELINE_ACTION_ALTER);

	if (allowCommit && SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	RunBackfill(view.record.viewId, allowCommit);
	if (allowCommit)
		SPI_finish();
	PG_RETURN_VOID();
}


void
RefuseWhileBackfilling(Oid viewId, const char *detail)
{
	ContinuousViewBackfill pending;

	if (ReadPendingBackfill(viewId, &pending))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" has a backfill that has not finished",
						get_rel_name(viewId)),
				 detail != NULL ? errdetail_internal("%s", detail) : 0,
				 errhint("Finish it first: CALL incremental.backfill_continuous_view('%s');",
						 get_rel_name(viewId))));
}


/*
 * AddColumns makes the change itself, in the caller's transaction, and
 * records the backfill it needs.
 */
static void
AddColumns(Oid viewId, const char *columns)
{
	AlteredView view;
	ContinuousViewOptions options = {0};
	ContinuousViewDefinition *before;
	ContinuousViewDefinition *after;
	ContinuousViewDefinition backfillDefinition;
	ContinuousViewBackfill backfill = {0};
	Query	   *query;
	char	   *queryText;
	List	   *added;
	List	   *allNames;
	int64		initialValue;
	int64		lastProcessed;
	ErrorContextCallback errorContext;
	Pipeline   *pipeline;
	ListCell   *cell;

	ReadAlteredView(viewId, &view);

	/* no batch of the view runs from here to our commit */
	pipeline = LockAndReadPipeline(view.record.pipelineName, PIPELINE_ACTION_ALTER);

	/*
	 * The change plans queries of the view (the states of no rows, the first
	 * id of the source), which may fold the owner's functions: it runs as
	 * the owner, never with another role's rights.  The backfill's batches
	 * run as the owner whoever calls.
	 */
	if (pipeline->ownerId != GetUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the owner of continuous view \"%s\" can add columns to it",
						get_rel_name(viewId)),
				 errhint("SET ROLE %s; then add the columns.",
						 quote_identifier(GetUserNameFromId(pipeline->ownerId, false)))));

	if (view.record.slidingWindow != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("columns cannot be added to continuous view \"%s\", which has a "
						"sliding window", get_rel_name(viewId)),
				 errhint("Create the view again with the new columns.")));
	if (IsRollup(&view.record))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("columns cannot be added to continuous view \"%s\", a roll-up",
						get_rel_name(viewId)),
				 errdetail("Its source, the deltas of the view it reads, keeps no rows it "
						   "has processed."),
				 errhint("Create the roll-up again with the new columns: it starts from "
						 "the state of the view it reads.")));
	RefuseWhileBackfilling(viewId, NULL);

	options.distinctMode = (char *) view.record.distinctMode;
	before = AnalyzeContinuousViewQuery(AnalyzeViewQueryText(view.record.query), &options,
										NULL);
	queryText = QueryTextWithColumns(view.record.query, columns);
	errorContext.callback = ShowQueryOfError;
	errorContext.arg = queryText;
	errorContext.previous = error_context_stack;
	error_context_stack = &errorContext;
	query = AnalyzeViewQueryText(queryText);
	error_context_stack = errorContext.previous;
	queryText = QueryText(copyObject(query));
	after = AnalyzeContinuousViewQuery(query, &options, NULL);
	added = AddedAggregates(before, after);

	/* the view's columns: those it has, then the new ones */
	backfill.columns = NewColumnNames(&view, after->query, &allNames);

	ReadSequencePipelineProgress(view.record.pipelineName, &initialValue, &lastProcessed);
	if (added != NIL)
		AddStateColumns(&view, after, added);
	ReplaceView(&view, after, allNames, queryText);
	ReplaceGeneratedCommand(view.record.pipelineName,
							BatchCommand(after, view.storage, view.deltaTable));
	UpdateContinuousViewQuery(viewId, queryText,
							  after->hasExactDistinct ? "exact" :
							  after->hllSchema != NULL ? "hll" : NULL);

	if (added == NIL)
		return;

	/* the batch command of the new aggregates alone */
	backfillDefinition = *after;
	backfillDefinition.aggregates = added;
	backfillDefinition.hasExactDistinct = false;
	backfill.command = BatchCommand(&backfillDefinition, view.storage, NULL);
	backfill.oneTransaction = TableHasRetention(after->sourceRelationId);

	/*
	 * One backfill per range processed: the coordinator's, and on Citus each
	 * other node group's, whose values follow its own range
	 */
	if (lastProcessed > initialValue)
		AddBackfillRange(viewId, &backfill, after, initialValue, lastProcessed);
	foreach(cell, OtherNodeGroupsProcessed(view.record.pipelineName))
	{
		NodeGroupProgress *group = lfirst(cell);

		AddBackfillRange(viewId, &backfill, after, group->minValue - 1, group->lastProcessed);
	}
}


/* Records the backfill of the values after 'from' up to 'through' */
static void
AddBackfillRange(Oid viewId, ContinuousViewBackfill *backfill,
				 ContinuousViewDefinition *definition, int64 from, int64 through)
{
	backfill->backfilledThrough = from;
	backfill->backfillThrough = through;
	backfill->validFrom = FirstSourceId(definition, from + 1, through);
	InsertContinuousViewBackfill(viewId, backfill);
}


static void
ReadAlteredView(Oid viewId, AlteredView *view)
{
	if (!ReadContinuousView(viewId, &view->record))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a continuous view", get_rel_name(viewId)),
				 errhint("incremental.continuous_views lists the continuous views.")));
	view->storage = QualifiedRelationName(view->record.storageRelationId);
	view->deltaTable = OidIsValid(view->record.deltaTableId) ?
		QualifiedRelationName(view->record.deltaTableId) : NULL;
	view->viewName = QualifiedRelationName(viewId);
}


/*
 * The view's query with the new select-list items after its own: they go
 * just before FROM, whose first item (the source, on the left of any join)
 * is found by the parser.  The result must parse as the same query with
 * more items, so that the text given cannot end the list and add clauses.
 */
static char *
QueryTextWithColumns(const char *queryText, const char *columns)
{
	SelectStmt *original = (SelectStmt *) ((RawStmt *) linitial(raw_parser(queryText,
																			 RAW_PARSE_DEFAULT)))->stmt;
	Node	   *first = linitial(original->fromClause);
	int			position;
	char	   *combined = NULL;
	List	   *items;
	List	   *statements;
	SelectStmt *select;

	while (IsA(first, JoinExpr))
		first = ((JoinExpr *) first)->larg;
	Assert(IsA(first, RangeVar));
	position = ((RangeVar *) first)->location;
	while (position > 0 && (scanner_isspace(queryText[position - 1]) ||
							queryText[position - 1] == '('))
		position--;
	Assert(position >= 4 && pg_strncasecmp(queryText + position - 4, "FROM", 4) == 0);
	position -= 4;

	/* alone, the items must be a select list and nothing more */
	items = ParseShowingQuery(psprintf("SELECT %s", columns));
	select = list_length(items) == 1 &&
		IsA(((RawStmt *) linitial(items))->stmt, SelectStmt) ?
		(SelectStmt *) ((RawStmt *) linitial(items))->stmt : NULL;
	if (select != NULL && (select->fromClause != NIL || select->whereClause != NULL ||
						   select->groupClause != NIL || select->havingClause != NULL ||
						   select->op != SETOP_NONE || select->valuesLists != NIL ||
						   select->intoClause != NULL || select->withClause != NULL))
		select = NULL;

	if (select != NULL)
	{
		combined = psprintf("%.*s, %s\n%s", position, queryText, columns,
							queryText + position);
		statements = ParseShowingQuery(combined);
		select = list_length(statements) == 1 &&
			IsA(((RawStmt *) linitial(statements))->stmt, SelectStmt) ?
			(SelectStmt *) ((RawStmt *) linitial(statements))->stmt : NULL;
	}

	if (select == NULL ||
		list_length(select->targetList) <= list_length(original->targetList) ||
		!equal(list_copy_head(select->targetList, list_length(original->targetList)),
			   original->targetList) ||
		!equal(select->fromClause, original->fromClause) ||
		!equal(select->whereClause, original->whereClause) ||
		!equal(select->groupClause, original->groupClause) ||
		!equal(select->havingClause, original->havingClause) ||
		select->windowClause != NIL || select->sortClause != NIL ||
		select->limitCount != NULL || select->limitOffset != NULL ||
		select->lockingClause != NIL || select->distinctClause != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a list of select-list items"),
				 errhint("Pass what would follow the view's other columns in its SELECT, "
						 "such as 'max(latency) AS slowest, count(DISTINCT user_id) AS users'.")));
	return combined;
}


/* raw_parser, its errors pointing into the text parsed (see ShowQueryOfError) */
static List *
ParseShowingQuery(const char *text)
{
	ErrorContextCallback errorContext;
	List	   *statements;

	errorContext.callback = ShowQueryOfError;
	errorContext.arg = unconstify(char *, text);
	errorContext.previous = error_context_stack;
	error_context_stack = &errorContext;
	statements = raw_parser(text, RAW_PARSE_DEFAULT);
	error_context_stack = errorContext.previous;
	return statements;
}


/*
 * An error in the query built from the given columns points into that
 * query, shown with the error, not into the CALL statement
 */
static void
ShowQueryOfError(void *arg)
{
	int			position = geterrposition();

	if (position <= 0)
		return;
	errposition(0);
	internalerrposition(position);
	internalerrquery((const char *) arg);
}


/*
 * The aggregates of the new definition that the old one did not keep.
 * Those it kept must keep their columns: a HAVING clause's aggregates are
 * named by their place, which new aggregates in the select list change.
 */
static List *
AddedAggregates(ContinuousViewDefinition *before, ContinuousViewDefinition *after)
{
	List	   *added = NIL;
	ListCell   *cell;

	foreach(cell, after->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);
		CVAggregate *kept = NULL;
		ListCell   *match;

		foreach(match, before->aggregates)
		{
			if (equal(((CVAggregate *) lfirst(match))->aggref, aggregate->aggref))
				kept = lfirst(match);
		}
		if (kept == NULL)
		{
			if (aggregate->exactDistinct)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("an exact distinct count cannot be added to a continuous view"),
						 errdetail("Its values are kept per group in a table of their own, "
								   "which would have to be filled from the whole source at once."),
						 errhint("Add it as a HyperLogLog sketch of a view with distinct => "
								 "'hll', or create the view again.")));
			added = lappend(added, aggregate);
			continue;
		}
		for (int i = 0; i < kept->nparts; i++)
		{
			if (kept->nparts != aggregate->nparts ||
				strcmp(kept->parts[i].columnName, aggregate->parts[i].columnName) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("the new columns would rename the stored state of an aggregate "
								"of the view"),
						 errdetail("Column \"%s\" would become \"%s\".", kept->parts[i].columnName,
								   aggregate->parts[i].columnName),
						 errhint("Name the new aggregates with AS, or create the view again.")));
		}
	}
	return added;
}


/*
 * The names of the view's new columns, checked to be new; *allNames gets
 * every column's name (String nodes), the view's own first, for the view.
 */
static List *
NewColumnNames(AlteredView *view, Query *query, List **allNames)
{
	Relation	relation = relation_open(view->record.viewId, AccessShareLock);
	TupleDesc	descriptor = RelationGetDescr(relation);
	List	   *newNames = NIL;
	int			position = 0;
	ListCell   *cell;

	*allNames = NIL;
	for (int i = 0; i < descriptor->natts; i++)
		*allNames = lappend(*allNames,
							makeString(pstrdup(NameStr(TupleDescAttr(descriptor, i)->attname))));

	foreach(cell, query->targetList)
	{
		TargetEntry *entry = lfirst(cell);
		ListCell   *nameCell;

		if (entry->resjunk || position++ < descriptor->natts)
			continue;
		if (entry->resname == NULL || strcmp(entry->resname, "?column?") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("a new column of a continuous view needs a name"),
					 errhint("Name it with AS.")));
		foreach(nameCell, *allNames)
		{
			if (strcmp(strVal(lfirst(nameCell)), entry->resname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" of continuous view \"%s\" already exists",
								entry->resname, get_rel_name(view->record.viewId)),
						 errhint("Name the new column otherwise with AS.")));
		}
		*allNames = lappend(*allNames, makeString(pstrdup(entry->resname)));
		newNames = lappend(newNames, pstrdup(entry->resname));
	}
	relation_close(relation, AccessShareLock);
	return newNames;
}


/*
 * The new state columns of the storage (and of the delta table its batches
 * append to for roll-ups), holding in every existing group the state of no
 * rows: the default of ADD COLUMN is kept in the catalog, no row is written.
 */
static void
AddStateColumns(AlteredView *view, ContinuousViewDefinition *definition, List *added)
{
	StringInfoData addColumns;
	StringInfoData dropDefaults;
	StringInfoData deltaColumns;
	ListCell   *cell;
	int			column = 0;
	bool		first = true;

	initStringInfo(&addColumns);
	initStringInfo(&dropDefaults);
	initStringInfo(&deltaColumns);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(EmptyStatesQuery(definition, added), true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not compute the empty states of the new aggregates");

	foreach(cell, added)
	{
		CVAggregate *aggregate = lfirst(cell);

		for (int i = 0; i < aggregate->nparts; i++)
		{
			const char *name = quote_identifier(aggregate->parts[i].columnName);
			char	   *empty = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 ++column);

			appendStringInfo(&addColumns, "%sADD COLUMN %s %s", first ? "" : ", ", name,
							 aggregate->parts[i].typeName);
			appendStringInfo(&deltaColumns, "%sADD COLUMN %s %s", first ? "" : ", ", name,
							 aggregate->parts[i].typeName);
			if (empty != NULL)
			{
				appendStringInfo(&addColumns, " DEFAULT %s::%s", quote_literal_cstr(empty),
								 aggregate->parts[i].typeName);
				appendStringInfo(&dropDefaults, "%sALTER COLUMN %s DROP DEFAULT",
								 dropDefaults.len > 0 ? ", " : "", name);
			}
			first = false;
		}
	}

	ExecuteGenerated(psprintf("ALTER TABLE %s %s", view->storage, addColumns.data));
	if (dropDefaults.len > 0)
		ExecuteGenerated(psprintf("ALTER TABLE %s %s", view->storage, dropDefaults.data));
	if (view->deltaTable != NULL)
		ExecuteGenerated(psprintf("ALTER TABLE %s %s", view->deltaTable, deltaColumns.data));
	SPI_finish();
}


/*
 * CREATE OR REPLACE VIEW with the new query (its columns are the old ones
 * and the new, at the end), and the rule's dependencies, which the
 * replacement forgot
 */
static void
ReplaceView(AlteredView *view, ContinuousViewDefinition *definition, List *columnNames,
			const char *queryText)
{
	ContinuousViewOptions options = {0};
	CVMaintenance maintenance;
	char	   *pipelineName;
	List	   *tableIds;

	options.ttl = view->record.ttl;
	options.ttlColumn = (char *) view->record.ttlColumn;
	options.partitionBy = (char *) view->record.partitionColumn;
	options.partitionDuration = view->record.partitionDuration;
	options.realtime = view->record.realtime;
	PlanMaintenance(definition, &options, view->record.pipelineName, &maintenance);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ExecuteViewDefinition(psprintf("CREATE OR REPLACE VIEW %s AS %s", view->viewName,
								   ContinuousViewQuery(definition, view->storage,
													   view->record.pipelineName,
													   view->record.realtime, columnNames,
													   &maintenance)));
	SPI_finish();

	if (!ReadContinuousViewTables(view->record.viewId, &pipelineName, &tableIds))
		elog(ERROR, "continuous view %u has no tables", view->record.viewId);
	RecordViewRuleDependencies(view->record.viewId, view->record.sourceRelationId, tableIds,
							   queryText, NULL);
}


/*
 * The first id the source still has from 'from' to 'through': the rows
 * below it are gone, and the new columns hold nothing of them; through + 1
 * when none is left.
 */
static int64
FirstSourceId(ContinuousViewDefinition *definition, int64 from, int64 through)
{
	const char *idColumn = quote_identifier(get_attname(definition->sourceRelationId,
															definition->idColumn, false));
	Oid			argumentTypes[2] = {INT8OID, INT8OID};
	Datum		arguments[2] = {Int64GetDatum(from), Int64GetDatum(through)};
	bool		isNull;
	Datum		first;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT min(%s)::bigint FROM %s WHERE %s BETWEEN $1 AND $2",
									   idColumn, QualifiedRelationName(definition->sourceRelationId),
									   idColumn),
							  2, argumentTypes, arguments, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the first id of the source");
	first = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isNull);
	SPI_finish();
	return isNull ? through + 1 : DatumGetInt64(first);
}


/*
 * RunBackfill merges the new aggregates of the rows processed before they
 * were added, a batch per transaction when the caller may commit, each
 * batch under the view's pipeline lock and with its progress.
 */
static void
RunBackfill(Oid viewId, bool allowCommit)
{
	for (;;)
	{
		AlteredView view;
		ContinuousViewBackfill backfill;
		int64		batchSize = CV_DEFAULT_MAX_BATCH_SIZE;
		int64		from;
		int64		to;

		CHECK_FOR_INTERRUPTS();
		if (!ReadContinuousView(viewId, &view.record))
			return;				/* dropped meanwhile */
		(void) LockAndReadPipeline(view.record.pipelineName, PIPELINE_ACTION_ALTER);
		if (!ReadPendingBackfill(viewId, &backfill))
			return;

		from = backfill.backfilledThrough + 1;
		to = backfill.oneTransaction || !allowCommit ? backfill.backfillThrough :
			Min(backfill.backfillThrough, from + batchSize - 1);

		ereport(NOTICE,
				(errmsg("continuous view \"%s\": backfilling sequence values from " INT64_FORMAT
						" to " INT64_FORMAT " of " INT64_FORMAT,
						get_rel_name(viewId), from, to, backfill.backfillThrough)));
		(void) ExecuteAsSequencePipeline(view.record.pipelineName, backfill.command, from, to);
		UpdateBackfillProgress(backfill.backfillId, to);

		if (allowCommit)
		{
			SPI_commit();
			XactIsoLevel = XACT_READ_COMMITTED;
		}
	}
}
