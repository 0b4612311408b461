/*-------------------------------------------------------------------------
 *
 * scheduler_state.c
 *	  Reading and writing what the scheduler keeps in the catalog.
 *
 * incremental.pipeline_run_state has one row per pipeline that the
 * scheduler has run.  It is bookkeeping, not user data: pg_dump leaves it
 * out, and a pipeline without a row simply has no history.  The scheduler
 * writes a successful run's row in the run's own transaction and a failed
 * run's row in a transaction of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog/catalog_access.h"
#include "catalog/scheduler_state.h"

/* incremental.pipeline_run_state */
#define Natts_pipeline_run_state				7
#define Anum_pipeline_run_state_pipeline_name	1
#define Anum_pipeline_run_state_last_run_start	2
#define Anum_pipeline_run_state_last_run_end	3
#define Anum_pipeline_run_state_last_run_status 4
#define Anum_pipeline_run_state_last_error		5
#define Anum_pipeline_run_state_consecutive_failures 6
#define Anum_pipeline_run_state_next_retry_at	7

/* The text stored for each PipelineRunStatus */
static const char *const RunStatusNames[] = {
	[RUN_STATUS_SUCCEEDED] = "succeeded",
	[RUN_STATUS_NOTHING_NEW] = "nothing new",
	[RUN_STATUS_SKIPPED] = "skipped",
	[RUN_STATUS_FAILED] = "failed",
};

static CatalogStatement WriteRunStateStatement = {
	.sql = "INSERT INTO incremental.pipeline_run_state "
	"(pipeline_name, last_run_start, last_run_end, last_run_status, last_error, "
	"consecutive_failures, next_retry_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) "
	"ON CONFLICT (pipeline_name) DO UPDATE SET "
	"last_run_start = excluded.last_run_start, "
	"last_run_end = excluded.last_run_end, "
	"last_run_status = excluded.last_run_status, "
	"last_error = excluded.last_error, "
	"consecutive_failures = excluded.consecutive_failures, "
	"next_retry_at = excluded.next_retry_at",
	.nargs = 7,
	.argtypes = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
	INT4OID, TIMESTAMPTZOID},
};

static CatalogStatement SetPausedStatement = {
	.sql = "UPDATE incremental.pipelines SET paused = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, BOOLOID},
};

static PipelineRunStatus RunStatusFromName(const char *name);


/*
 * ReadPipelineRunState fills *state with the pipeline's row and returns
 * true, or returns false when the scheduler has never run the pipeline.
 */
bool
ReadPipelineRunState(const char *pipelineName, PipelineRunState *state)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[Natts_pipeline_run_state];
	bool		nulls[Natts_pipeline_run_state];

	memset(state, 0, sizeof(PipelineRunState));

	if (!ReadCatalogRow(CATALOG_PIPELINE_RUN_STATE, 1, &key, values, nulls))
		return false;

	if (!nulls[Anum_pipeline_run_state_last_run_start - 1])
		state->lastRunStart = DatumGetTimestampTz(values[Anum_pipeline_run_state_last_run_start - 1]);
	if (!nulls[Anum_pipeline_run_state_last_run_end - 1])
		state->lastRunEnd = DatumGetTimestampTz(values[Anum_pipeline_run_state_last_run_end - 1]);
	if (!nulls[Anum_pipeline_run_state_last_run_status - 1])
		state->lastStatus = RunStatusFromName(TextDatumGetCString(values[Anum_pipeline_run_state_last_run_status - 1]));
	if (!nulls[Anum_pipeline_run_state_last_error - 1])
		state->lastError = TextDatumGetCString(values[Anum_pipeline_run_state_last_error - 1]);
	state->consecutiveFailures = DatumGetInt32(values[Anum_pipeline_run_state_consecutive_failures - 1]);
	if (!nulls[Anum_pipeline_run_state_next_retry_at - 1])
		state->nextRetryAt = DatumGetTimestampTz(values[Anum_pipeline_run_state_next_retry_at - 1]);

	return true;
}


static PipelineRunStatus
RunStatusFromName(const char *name)
{
	for (int i = 0; i < (int) lengthof(RunStatusNames); i++)
	{
		if (strcmp(RunStatusNames[i], name) == 0)
			return (PipelineRunStatus) i;
	}
	return RUN_STATUS_FAILED;
}


/* WritePipelineRunState creates or replaces the pipeline's row */
void
WritePipelineRunState(const char *pipelineName, const PipelineRunState *state)
{
	Datum		values[Natts_pipeline_run_state];
	char		nulls[Natts_pipeline_run_state];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = TimestampTzGetDatum(state->lastRunStart);
	values[2] = TimestampTzGetDatum(state->lastRunEnd);
	values[3] = CStringGetTextDatum(RunStatusNames[state->lastStatus]);
	if (state->lastError != NULL)
		values[4] = CStringGetTextDatum(state->lastError);
	else
		nulls[4] = 'n';
	values[5] = Int32GetDatum(state->consecutiveFailures);
	values[6] = TimestampTzGetDatum(state->nextRetryAt);
	if (state->nextRetryAt == 0)
		nulls[6] = 'n';

	ModifyCatalog(&WriteRunStateStatement, values, nulls);
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
