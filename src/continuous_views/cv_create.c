/*-------------------------------------------------------------------------
 *
 * cv_create.c
 *	  Creating a continuous view: its storage table, the view, and the
 *	  sequence pipeline that merges each batch of new source rows into the
 *	  storage; and incremental.create_continuous_view(), the SQL form.
 *
 * Creation returns at once.  The source's existing rows are processed by
 * the pipeline like new ones, in committed batches of max_batch_size, by
 * the scheduler (or CALL incremental.execute_pipeline).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "pgtime.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog/catalog_version.h"
#include "catalog/continuous_view_catalog.h"
#include "common/relation_name.h"
#include "continuous_views/cv_analyze.h"
#include "continuous_views/cv_create.h"
#include "continuous_views/cv_dependencies.h"
#include "continuous_views/cv_maintenance.h"
#include "continuous_views/cv_placement.h"
#include "continuous_views/cv_rollup.h"
#include "continuous_views/cv_sql.h"
#include "distributed/citus_nodes.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_create_continuous_view);

static void WarnWithoutIdIndex(ContinuousViewDefinition *definition);


/*
 * incremental.create_continuous_view(view_name, query, schedule,
 *		max_batch_size, realtime, distinct)
 */
Datum
incremental_create_continuous_view(PG_FUNCTION_ARGS)
{
	char	   *viewName = GetTextArgument(fcinfo, 0, "view_name");
	char	   *queryText = GetTextArgument(fcinfo, 1, "query");
	ContinuousViewOptions options = {0};
	RangeVar   *view;

	if (!PG_ARGISNULL(2))
		options.schedule = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
	{
		options.maxBatchSize = PG_GETARG_INT64(3);
		if (options.maxBatchSize <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_batch_size must be positive"),
					 errhint("The default is %d rows per batch.", CV_DEFAULT_MAX_BATCH_SIZE)));
	}
	CheckArgumentNotNull(fcinfo, 4, "realtime");
	options.realtime = PG_GETARG_BOOL(4);
	if (!PG_ARGISNULL(5))
		options.distinctMode = text_to_cstring(PG_GETARG_TEXT_PP(5));
	if (!PG_ARGISNULL(6))
		options.ttl = PG_GETARG_INTERVAL_P(6);
	if (!PG_ARGISNULL(7))
		options.ttlColumn = text_to_cstring(PG_GETARG_TEXT_PP(7));
	if (!PG_ARGISNULL(8))
		options.slidingWindow = PG_GETARG_INTERVAL_P(8);
	if (!PG_ARGISNULL(9))
		options.slidingColumn = text_to_cstring(PG_GETARG_TEXT_PP(9));
	if (!PG_ARGISNULL(10))
		options.partitionBy = text_to_cstring(PG_GETARG_TEXT_PP(10));
	if (!PG_ARGISNULL(11))
		options.partitionDuration = PG_GETARG_INTERVAL_P(11);

	view = makeRangeVarFromNameList(stringToQualifiedNameList(viewName));

	PG_RETURN_OID(CreateContinuousView(view, NIL, AnalyzeViewQueryText(queryText), queryText,
									   &options));
}


/* Parses and analyzes the text of a continuous view's SELECT */
Query *
AnalyzeViewQueryText(const char *queryText)
{
	List	   *statements = raw_parser(queryText, RAW_PARSE_DEFAULT);
	RawStmt    *statement;

	if (list_length(statements) != 1 ||
		!IsA(((RawStmt *) linitial(statements))->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a continuous view must be one SELECT statement")));

	statement = linitial(statements);
	return parse_analyze_fixedparams(statement, queryText, NULL, 0, NULL);
}


Oid
CreateContinuousView(RangeVar *viewName, List *columnNames, Query *query,
					 const char *queryText, ContinuousViewOptions *options)
{
	ContinuousViewDefinition *definition;
	ContinuousViewRecord record = {0};
	Oid			namespaceId;
	char	   *schemaName;
	char	   *storageRelname;
	char	   *viewQualified;
	char	   *storageQualified;
	char	   *pipelineName;
	Oid			viewId;
	Oid			storageId;
	int64		maxBatchSize = options->maxBatchSize;
	ListCell   *cell;
	CVMaintenance maintenance;
	CVPlacement placement;
	CVRollupSource *rollup;
	char	   *command;

	CheckInstalledVersion();

	/* 0: not given; creation never processes the source in one batch */
	if (maxBatchSize <= 0)
		maxBatchSize = CV_DEFAULT_MAX_BATCH_SIZE;

	if (options->distinctMode != NULL && strcmp(options->distinctMode, "hll") != 0 &&
		strcmp(options->distinctMode, "exact") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized distinct mode \"%s\"", options->distinctMode),
				 errhint("Pass 'hll' for HyperLogLog sketches (approximate, a few hundred "
						 "bytes per group) or 'exact' for a table of the values seen.")));

	if (viewName->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot be temporary"),
				 errdetail("Its batches run in other sessions, which do not see "
						   "this session's temporary objects.")));

	/* as written, before the analysis takes a sliding window's condition out */
	record.query = QueryText(copyObject(query));
	rollup = PrepareRollupSource(query);
	if (rollup != NULL && (options->realtime || options->slidingWindow != NULL ||
						   options->distinctMode != NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a roll-up cannot be %s",
						options->realtime ? "real-time" :
						options->slidingWindow != NULL ? "a sliding window" :
						"given a distinct mode"),
				 errdetail("It combines the states kept by continuous view \"%s\".",
						   get_rel_name(RollupSourceView(rollup))),
				 options->distinctMode != NULL ?
				 errhint("Its distinct counts are kept as that view keeps them.") :
				 errhint("Create the roll-up without that option.")));
	definition = AnalyzeContinuousViewQuery(query, options, rollup);
	if (rollup != NULL && definition->slidingWindow != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a roll-up cannot be a sliding window"),
				 errhint("Read the last minutes or days of the roll-up in a query over it.")));

	namespaceId = RangeVarGetCreationNamespace(viewName);
	if (isAnyTempNamespace(namespaceId))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view cannot be created in a temporary schema")));

	schemaName = get_namespace_name(namespaceId);
	storageRelname = psprintf("%.*s_storage", NAMEDATALEN - 1 - 8, viewName->relname);
	viewQualified = quote_qualified_identifier(schemaName, viewName->relname);
	storageQualified = quote_qualified_identifier(schemaName, storageRelname);
	pipelineName = viewQualified;

	if (OidIsValid(get_relname_relid(viewName->relname, namespaceId)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", viewName->relname)));
	if (OidIsValid(get_relname_relid(storageRelname, namespaceId)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", storageRelname),
				 errdetail("A continuous view keeps its state in a table named after it, "
						   "with the suffix _storage."),
				 errhint("Choose another name for the view, or rename \"%s\".",
						 storageRelname)));

	PlanMaintenance(definition, options, pipelineName, &maintenance);
	PlanStoragePlacement(definition, &maintenance, &placement);

	/* names first: what SPI allocates is gone after SPI_finish */
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		if (!aggregate->exactDistinct)
			continue;

		/* <view>_<column>_values: the values the count has seen */
		aggregate->sideTableName = psprintf("%.*s_%.*s_values", 30, viewName->relname, 24,
											aggregate->parts[0].columnName);
		if (OidIsValid(get_relname_relid(aggregate->sideTableName, namespaceId)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation \"%s\" already exists", aggregate->sideTableName),
					 errdetail("An exact distinct count keeps the values it has seen in a "
							   "table named after the view and the column."),
					 errhint("Choose another name for the view or the column.")));
		aggregate->sideTable = quote_qualified_identifier(schemaName, aggregate->sideTableName);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ExecuteGenerated(StorageTableCommand(definition, storageQualified,
										 maintenance.partitionKey));
	PlaceStorage(&placement, get_relname_relid(storageRelname, namespaceId),
				 definition->sourceRelationId);
	if (maintenance.partitionKey != NULL)
		ExecuteGenerated(psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT",
								  quote_qualified_identifier(schemaName,
															 psprintf("%.*s_default", NAMEDATALEN - 1 - 8,
																	  storageRelname)),
								  storageQualified));
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		if (aggregate->exactDistinct)
			ExecuteGenerated(SideTableCommand(definition, aggregate));
	}
	ExecuteViewDefinition(psprintf("CREATE VIEW %s AS %s", viewQualified,
								   ContinuousViewQuery(definition, storageQualified,
													   pipelineName, options->realtime,
													   columnNames, &maintenance)));
	SPI_finish();

	viewId = get_relname_relid(viewName->relname, namespaceId);
	storageId = get_relname_relid(storageRelname, namespaceId);
	foreach(cell, definition->aggregates)
	{
		CVAggregate *aggregate = lfirst(cell);

		if (aggregate->exactDistinct)
			record.distinctTableIds =
				lappend_oid(record.distinctTableIds,
							get_relname_relid(aggregate->sideTableName, namespaceId));
	}

	command = BatchCommand(definition, storageQualified, NULL);
	CreateSequencePipeline(pipelineName, definition->sourceRelationId, command,
						   options->schedule, maxBatchSize,
						   pg_get_timezone_name(session_timezone), false);
	if (rollup != NULL)
		StartRollup(rollup, pipelineName, command);

	if (maintenance.pipelineName != NULL)
		CreateMaintenancePipeline(maintenance.pipelineName, pipelineName);

	record.viewId = viewId;
	record.pipelineName = pipelineName;
	record.sourceRelationId = definition->sourceRelationId;
	record.storageRelationId = storageId;
	record.realtime = options->realtime;
	record.ttl = options->ttl;
	record.ttlColumn = maintenance.ttlKey ? maintenance.ttlKey->columnName : NULL;
	record.slidingWindow = definition->slidingWindow;
	record.slidingColumn = options->slidingColumn;
	record.windowColumn = maintenance.windowKey ? maintenance.windowKey->columnName : NULL;
	record.partitionColumn = maintenance.partitionKey ? maintenance.partitionKey->columnName : NULL;
	record.partitionDuration = options->partitionDuration;
	record.readTableIds = QueryRelations(query);
	if (rollup != NULL)			/* which reads the view's delta table */
		record.readTableIds = lappend_oid(record.readTableIds, RollupSourceView(rollup));
	record.maintenancePipelineName = maintenance.pipelineName;
	record.distinctMode = definition->hasExactDistinct ? "exact" :
		definition->hllSchema != NULL ? "hll" : NULL;
	InsertContinuousView(&record);	/* its trigger records the dependencies */

	if (options->realtime)
		WarnWithoutIdIndex(definition);

	ReportBatchPlacement(&placement, viewName->relname, definition, storageQualified);

	return viewId;
}


/*
 * The query of the view itself, over its storage: real-time, it also
 * aggregates the source's rows above its pipeline's progress
 */
char *
ContinuousViewQuery(ContinuousViewDefinition *definition, const char *storage,
					const char *pipelineName, bool realtime, List *columnNames,
					CVMaintenance *maintenance)
{
	char	   *watermark = NULL;
	char	   *watermarkEnd = NULL;

	if (realtime)
	{
		watermark = psprintf("(SELECT p.last_processed_sequence_number "
							 "FROM incremental.sequence_pipelines p "
							 "WHERE p.pipeline_name OPERATOR(pg_catalog.=) %s)",
							 quote_literal_cstr(pipelineName));

		/*
		 * That progress is the coordinator's, whose values come first.  On
		 * Citus, the other node groups draw from ranges above, each with a
		 * progress of its own: their rows wait for the batches, which the
		 * view must not count a second time.  Without other groups, NULL:
		 * no end but the type's.  Without Citus in the database, no end at
		 * all, which spares every read a subquery (a real-time view created
		 * before Citus is created again: docs/citus.md).
		 */
		if (CitusIsPresent())
			watermarkEnd = psprintf("(SELECT pg_catalog.min(g.min_sequence_number) "
									"OPERATOR(pg_catalog.-) 1 "
									"FROM incremental.sequence_pipeline_node_groups g "
									"WHERE g.pipeline_name OPERATOR(pg_catalog.=) %s)",
									quote_literal_cstr(pipelineName));
	}
	return ViewQuery(definition, storage, watermark, watermarkEnd, columnNames,
					 maintenance->ttlKey ? maintenance->ttlKey->columnName : NULL,
					 maintenance->ttlSource);
}


/* Runs a generated utility statement (DDL) through SPI, connected */
void
ExecuteGenerated(const char *command)
{
	int			result = SPI_execute(command, false, 0);

	if (result != SPI_OK_UTILITY)
		elog(ERROR, "generated statement failed (%d): %s", result, command);
}




/*
 * A real-time view reads the source's rows above the pipeline's progress
 * at every read; without an index on the sequence column, that is a scan
 * of the whole source.
 */
static void
WarnWithoutIdIndex(ContinuousViewDefinition *definition)
{
	if (!ColumnLeadsAnIndex(definition->sourceRelationId, definition->idColumn))
		ereport(WARNING,
				(errmsg("the source's column \"%s\" has no index",
						get_attname(definition->sourceRelationId, definition->idColumn, false)),
				 errdetail("Every read of a real-time continuous view reads the rows not "
						   "processed yet, found by that column."),
				 errhint("CREATE INDEX ON %s (%s);",
						 QualifiedRelationName(definition->sourceRelationId),
						 quote_identifier(get_attname(definition->sourceRelationId,
													  definition->idColumn, false)))));
}
