/*-------------------------------------------------------------------------
 *
 * pipeline_runs.c
 *	  Reading and writing incremental.pipeline_runs, the run history that
 *	  also holds each pipeline's statistics.
 *
 * Every row carries the pipeline's cumulative counters as of that run,
 * computed from the previous newest row in the same statement.  Recording
 * a run is therefore one small insert in the run's own transaction, and
 * the statistics commit or roll back with the work they describe.  Runs of
 * one pipeline are serialized by its lock, so the previous row cannot
 * change underneath an insert.  Trimming never removes a pipeline's newest
 * row, so no count is ever lost to it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog/catalog_access.h"
#include "catalog/pipeline_catalog.h"

static CatalogStatement InsertRunStatement = {
	.sql = "INSERT INTO incremental.pipeline_runs "
	"(pipeline_name, started_at, ended_at, status, triggered_by, batches, "
	"items_processed, rows_processed, range_start, range_end, error_message, "
	"error_sqlstate, next_retry_at, total_runs, total_failures, "
	"consecutive_failures, total_items, total_exec_time, last_success, "
	"last_error_message, last_error_sqlstate, stats_reset) "
	"SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	"COALESCE(previous.total_runs, 0) + 1, "
	"COALESCE(previous.total_failures, 0) + CASE WHEN $4 = 'failed' THEN 1 ELSE 0 END, "
	"CASE WHEN $4 = 'failed' THEN COALESCE(previous.consecutive_failures, 0) + 1 ELSE 0 END, "
	"COALESCE(previous.total_items, 0) + $7, "
	"COALESCE(previous.total_exec_time, 0) + $14, "
	"CASE WHEN $4 = 'succeeded' THEN $3 ELSE previous.last_success END, "
	"CASE WHEN $4 = 'failed' THEN $11 ELSE previous.last_error_message END, "
	"CASE WHEN $4 = 'failed' THEN $12 ELSE previous.last_error_sqlstate END, "
	"previous.stats_reset "
	"FROM (SELECT) AS one LEFT JOIN LATERAL "
	"(SELECT * FROM incremental.pipeline_runs r WHERE r.pipeline_name = $1 "
	" ORDER BY r.run_id DESC LIMIT 1) AS previous ON true",
	.nargs = 14,
	.argtypes = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT4OID,
		INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID},
};

static CatalogStatement ReadSummaryStatement = {
	.sql = "SELECT started_at, consecutive_failures, next_retry_at "
	"FROM incremental.pipeline_runs WHERE pipeline_name = $1 "
	"ORDER BY run_id DESC LIMIT 1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement ResetStatsStatement = {
	.sql = "UPDATE incremental.pipeline_runs "
	"SET total_runs = 0, total_failures = 0, total_items = 0, total_exec_time = 0, "
	"stats_reset = now() "
	"WHERE run_id = (SELECT max(run_id) FROM incremental.pipeline_runs "
	"                WHERE pipeline_name = $1)",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement TrimStatement = {
	.sql = "DELETE FROM incremental.pipeline_runs r "
	"WHERE r.run_id < (SELECT max(newest.run_id) FROM incremental.pipeline_runs newest "
	"                  WHERE newest.pipeline_name = r.pipeline_name) "
	"AND (($1 >= 0 AND r.ended_at < now() - make_interval(secs => $1)) "
	"     OR r.run_id <= (SELECT kept.run_id FROM incremental.pipeline_runs kept "
	"                     WHERE kept.pipeline_name = r.pipeline_name "
	"                     ORDER BY kept.run_id DESC OFFSET $2 LIMIT 1))",
	.nargs = 2,
	.argtypes = {FLOAT8OID, INT4OID},
};


#define OptionalTextDatum(text) ((text) != NULL ? CStringGetTextDatum(text) : (Datum) 0)
#define NullFlag(isNull) ((isNull) ? 'n' : ' ')


/* InsertPipelineRun records a run, in the current transaction */
void
InsertPipelineRun(const PipelineRunRecord *record)
{
	Datum		values[14];
	char		nulls[14];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(record->pipelineName);
	values[1] = TimestampTzGetDatum(record->startedAt);
	values[2] = TimestampTzGetDatum(record->endedAt);
	values[3] = CStringGetTextDatum(record->succeeded ? "succeeded" : "failed");
	values[4] = CStringGetTextDatum(record->byScheduler ? "scheduler" : "user");
	values[5] = Int32GetDatum(record->batches);
	values[6] = Int64GetDatum(record->itemsProcessed);
	values[7] = Int64GetDatum(record->rowsProcessed);
	values[8] = OptionalTextDatum(record->rangeStart);
	nulls[8] = NullFlag(record->rangeStart == NULL);
	values[9] = OptionalTextDatum(record->rangeEnd);
	nulls[9] = NullFlag(record->rangeEnd == NULL);
	values[10] = OptionalTextDatum(record->errorMessage);
	nulls[10] = NullFlag(record->errorMessage == NULL);
	values[11] = OptionalTextDatum(record->errorSqlstate);
	nulls[11] = NullFlag(record->errorSqlstate == NULL);
	values[12] = TimestampTzGetDatum(record->nextRetryAt);
	nulls[12] = NullFlag(record->nextRetryAt == 0);
	values[13] = Float8GetDatum(record->execTimeMs);

	ModifyCatalog(&InsertRunStatement, values, nulls);
}


/*
 * ReadPipelineRunSummary reads what the scheduler needs to pick a pipeline
 * up after a restart.  Returns false when the pipeline has no runs.
 */
bool
ReadPipelineRunSummary(const char *pipelineName, PipelineRunSummary *summary)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[3];
	bool		nulls[3];

	if (!QueryCatalog(&ReadSummaryStatement, &key, NULL, values, nulls, 3))
		return false;

	summary->lastRunStart = DatumGetTimestampTz(values[0]);
	summary->consecutiveFailures = DatumGetInt32(values[1]);
	summary->nextRetryAt = nulls[2] ? 0 : DatumGetTimestampTz(values[2]);

	return true;
}


/* ResetPipelineStats zeroes a pipeline's counters; failures in a row stay */
void
ResetPipelineStats(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);

	ModifyCatalog(&ResetStatsStatement, &key, NULL);
}


/*
 * TrimPipelineRuns removes runs that ended longer than retentionSeconds ago
 * (-1: no age limit) and all but the newest maxRunsPerPipeline runs of each
 * pipeline, keeping every pipeline's newest run.  Returns the rows removed.
 */
uint64
TrimPipelineRuns(int64 retentionSeconds, int32 maxRunsPerPipeline)
{
	Datum		values[2];

	values[0] = Float8GetDatum((double) retentionSeconds);
	values[1] = Int32GetDatum(Max(maxRunsPerPipeline, 1));

	return ModifyCatalog(&TrimStatement, values, NULL);
}
