/*-------------------------------------------------------------------------
 *
 * pipelines.c
 *	  Reading and writing incremental.pipelines, the row every pipeline has
 *	  whatever its kind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"

#include "catalog/pipeline_catalog.h"
#include "catalog/catalog_access.h"
#include "catalog/pipeline_scheduler.h"

static Pipeline *PipelineFromRow(Datum *values, bool *nulls);

static CatalogStatement InsertPipelineStatement = {
	.sql = "INSERT INTO incremental.pipelines "
	"(pipeline_name, pipeline_type, owner_id, source_relation, command, "
	"search_path, schedule, paused) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	.nargs = 8,
	.argtypes = {TEXTOID, CHAROID, REGROLEOID, REGCLASSOID, TEXTOID, TEXTOID,
	TEXTOID, BOOLOID},
};

static CatalogStatement SetPausedStatement = {
	.sql = "UPDATE incremental.pipelines SET paused = $2, paused_reason = NULL "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, BOOLOID},
};

static CatalogStatement PauseWithReasonStatement = {
	.sql = "UPDATE incremental.pipelines SET paused = true, paused_reason = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, TEXTOID},
};

static CatalogStatement SetMaxConsecutiveFailuresStatement = {
	.sql = "UPDATE incremental.pipelines SET max_consecutive_failures = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, INT4OID},
};

static CatalogStatement SetOwnerStatement = {
	.sql = "UPDATE incremental.pipelines SET owner_id = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, REGROLEOID},
};

static CatalogStatement UpdateDefinitionStatement = {
	.sql = "UPDATE incremental.pipelines "
	"SET command = coalesce($2, command), schedule = CASE WHEN $4 THEN $3 ELSE schedule END "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 4,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID, BOOLOID},
};

static CatalogStatement RenameStatement = {
	.sql = "UPDATE incremental.pipelines SET pipeline_name = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, TEXTOID},
};

static CatalogStatement DeletePipelineStatement = {
	.sql = "DELETE FROM incremental.pipelines "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};


/*
 * ReadPipeline returns the named pipeline, or NULL when it does not exist
 * and missingOk is set.
 */
Pipeline *
ReadPipeline(const char *pipelineName, bool missingOk)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[Natts_pipelines];
	bool		nulls[Natts_pipelines];

	if (!ReadCatalogRow(CATALOG_PIPELINES, 1, &key, values, nulls))
	{
		if (missingOk)
			return NULL;

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" does not exist", pipelineName),
				 errhint("The pipelines are listed in incremental.pipelines.")));
	}

	return PipelineFromRow(values, nulls);
}


/* ReadAllPipelines returns every pipeline of the database, in no order */
List *
ReadAllPipelines(void)
{
	List	   *rows = ReadAllCatalogRows(CATALOG_PIPELINES, Natts_pipelines);
	List	   *pipelines = NIL;
	ListCell   *rowCell;

	foreach(rowCell, rows)
	{
		Datum	   *values = lfirst(rowCell);

		pipelines = lappend(pipelines,
							PipelineFromRow(values, CatalogRowNulls(values, Natts_pipelines)));
	}

	return pipelines;
}


static Pipeline *
PipelineFromRow(Datum *values, bool *nulls)
{
	Pipeline   *pipeline = palloc0(sizeof(Pipeline));

	pipeline->name = TextDatumGetCString(values[Anum_pipelines_pipeline_name - 1]);
	pipeline->type = (PipelineType) DatumGetChar(values[Anum_pipelines_pipeline_type - 1]);
	pipeline->ownerId = DatumGetObjectId(values[Anum_pipelines_owner_id - 1]);
	pipeline->command = TextDatumGetCString(values[Anum_pipelines_command - 1]);
	pipeline->paused = DatumGetBool(values[Anum_pipelines_paused - 1]);

	pipeline->sourceRelationId = DatumGetObjectId(values[Anum_pipelines_source_relation - 1]);
	if (!nulls[Anum_pipelines_search_path - 1])
		pipeline->searchPath = TextDatumGetCString(values[Anum_pipelines_search_path - 1]);
	if (!nulls[Anum_pipelines_schedule - 1])
		pipeline->schedule = TextDatumGetCString(values[Anum_pipelines_schedule - 1]);
	pipeline->scheduledBy = PipelineSchedulerFromText(values[Anum_pipelines_scheduled_by - 1]);
	if (!nulls[Anum_pipelines_cron_job_id - 1])
		pipeline->cronJobId = DatumGetInt64(values[Anum_pipelines_cron_job_id - 1]);
	pipeline->createdAt = DatumGetTimestampTz(values[Anum_pipelines_created_at - 1]);
	pipeline->maxConsecutiveFailures = -1;
	if (!nulls[Anum_pipelines_max_consecutive_failures - 1])
		pipeline->maxConsecutiveFailures =
			DatumGetInt32(values[Anum_pipelines_max_consecutive_failures - 1]);
	if (!nulls[Anum_pipelines_paused_reason - 1])
		pipeline->pausedReason = TextDatumGetCString(values[Anum_pipelines_paused_reason - 1]);

	return pipeline;
}


/*
 * CheckPipelineSchedule raises the error that the CHECK constraint on
 * pipelines.schedule would raise for an invalid schedule, but before any
 * write, so that the user sees it without our INSERT as its context.
 */
void
CheckPipelineSchedule(const char *schedule)
{
	List	   *functionName = list_make2(makeString(INCREMENTAL_SCHEMA),
										  makeString("_schedule_is_valid"));
	Oid			argtype = TEXTOID;
	Oid			functionId = LookupFuncName(functionName, 1, &argtype, false);

	(void) OidFunctionCall1(functionId, CStringGetTextDatum(schedule));
}


/*
 * InsertPipeline adds a pipeline.  A pipeline of that name must not exist:
 * callers check first, to give a clear error instead of a unique violation.
 */
void
InsertPipeline(const Pipeline *pipeline)
{
	Datum		values[8];
	char		nulls[8];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(pipeline->name);
	values[1] = CharGetDatum((char) pipeline->type);
	values[2] = ObjectIdGetDatum(pipeline->ownerId);
	/* 0 when there is none, as pg_incremental 1.3 stores it */
	values[3] = ObjectIdGetDatum(pipeline->sourceRelationId);
	values[4] = CStringGetTextDatum(pipeline->command);
	if (pipeline->searchPath != NULL)
		values[5] = CStringGetTextDatum(pipeline->searchPath);
	else
		nulls[5] = 'n';
	if (pipeline->schedule != NULL)
		values[6] = CStringGetTextDatum(pipeline->schedule);
	else
		nulls[6] = 'n';
	values[7] = BoolGetDatum(pipeline->paused);

	ModifyCatalog(&InsertPipelineStatement, values, nulls);
}


/* SetPipelinePaused sets the paused flag of an existing pipeline */
void
SetPipelinePaused(const char *pipelineName, bool paused)
{
	Datum		values[2];

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = BoolGetDatum(paused);

	ModifyCatalog(&SetPausedStatement, values, NULL);
}


/* SetPipelineOwner gives an existing pipeline another owner */
void
SetPipelineOwner(const char *pipelineName, Oid ownerId)
{
	Datum		values[2];

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = ObjectIdGetDatum(ownerId);

	ModifyCatalog(&SetOwnerStatement, values, NULL);
}


/* DeletePipeline removes a pipeline; its other rows go with it (cascade) */
void
DeletePipeline(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);

	ModifyCatalog(&DeletePipelineStatement, &key, NULL);
}


/*
 * UpdatePipelineDefinition changes a pipeline's command (NULL: kept) and,
 * when changeSchedule, its schedule
 */
void
UpdatePipelineDefinition(const char *pipelineName, const char *command, bool changeSchedule,
						 const char *schedule)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = command != NULL ? CStringGetTextDatum(command) : (Datum) 0;
	nulls[1] = command != NULL ? ' ' : 'n';
	values[2] = schedule != NULL ? CStringGetTextDatum(schedule) : (Datum) 0;
	nulls[2] = schedule != NULL ? ' ' : 'n';
	values[3] = BoolGetDatum(changeSchedule);

	ModifyCatalog(&UpdateDefinitionStatement, values, nulls);
}


/* RenamePipeline renames a pipeline; its other rows follow (cascade) */
void
RenamePipeline(const char *pipelineName, const char *newName)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), CStringGetTextDatum(newName)};

	ModifyCatalog(&RenameStatement, values, NULL);
}


/* PausePipelineWithReason pauses a pipeline and records why (the scheduler) */
void
PausePipelineWithReason(const char *pipelineName, const char *reason)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), CStringGetTextDatum(reason)};

	ModifyCatalog(&PauseWithReasonStatement, values, NULL);
}


/* UpdatePipelineMaxConsecutiveFailures sets the pipeline's own limit */
void
UpdatePipelineMaxConsecutiveFailures(const char *pipelineName, int32 limit)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), Int32GetDatum(limit)};

	ModifyCatalog(&SetMaxConsecutiveFailuresStatement, values, NULL);
}
