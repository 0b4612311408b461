/*-------------------------------------------------------------------------
 *
 * time_interval_pipelines.c
 *	  Reading and writing incremental.time_interval_pipelines: how a
 *	  pipeline cuts time into intervals and where it has got to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "catalog/pipeline_catalog.h"
#include "catalog/catalog_access.h"

static CatalogStatement InsertStatement = {
	.sql = "INSERT INTO incremental.time_interval_pipelines "
	"(pipeline_name, time_interval, batched, min_delay, last_processed_time, "
	"start_time, time_zone) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7)",
	.nargs = 7,
	.argtypes = {TEXTOID, INTERVALOID, BOOLOID, INTERVALOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, TEXTOID},
};

static CatalogStatement UpdateMinDelayStatement = {
	.sql = "UPDATE incremental.time_interval_pipelines SET min_delay = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, INTERVALOID},
};

static CatalogStatement UpdateProgressStatement = {
	.sql = "UPDATE incremental.time_interval_pipelines "
	"SET last_processed_time = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, TIMESTAMPTZOID},
};


TimeIntervalPipelineState *
ReadTimeIntervalPipelineState(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[Natts_time_interval_pipelines];
	bool		nulls[Natts_time_interval_pipelines];
	TimeIntervalPipelineState *state;

	if (!ReadCatalogRow(CATALOG_TIME_INTERVAL_PIPELINES, 1, &key, values, nulls))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("time interval pipeline \"%s\" has no progress row", pipelineName),
				 errhint("Drop the pipeline and create it again.")));

	state = palloc0(sizeof(TimeIntervalPipelineState));
	state->timeInterval = *DatumGetIntervalP(values[Anum_time_interval_pipelines_time_interval - 1]);
	state->batched = DatumGetBool(values[Anum_time_interval_pipelines_batched - 1]);
	state->minDelay = *DatumGetIntervalP(values[Anum_time_interval_pipelines_min_delay - 1]);
	state->lastProcessedTime =
		DatumGetTimestampTz(values[Anum_time_interval_pipelines_last_processed_time - 1]);
	state->startTime = DatumGetTimestampTz(values[Anum_time_interval_pipelines_start_time - 1]);
	state->timeZone = TextDatumGetCString(values[Anum_time_interval_pipelines_time_zone - 1]);

	return state;
}


void
InsertTimeIntervalPipelineState(const char *pipelineName,
								const TimeIntervalPipelineState *state)
{
	Datum		values[7];

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = IntervalPGetDatum(&state->timeInterval);
	values[2] = BoolGetDatum(state->batched);
	values[3] = IntervalPGetDatum(&state->minDelay);
	values[4] = TimestampTzGetDatum(state->lastProcessedTime);
	values[5] = TimestampTzGetDatum(state->startTime);
	values[6] = CStringGetTextDatum(state->timeZone);

	ModifyCatalog(&InsertStatement, values, NULL);
}


void
UpdateLastProcessedTime(const char *pipelineName, TimestampTz lastProcessedTime)
{
	Datum		values[2];

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = TimestampTzGetDatum(lastProcessedTime);

	ModifyCatalog(&UpdateProgressStatement, values, NULL);
}


void
UpdateTimeIntervalMinDelay(const char *pipelineName, const Interval *minDelay)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), IntervalPGetDatum(minDelay)};

	ModifyCatalog(&UpdateMinDelayStatement, values, NULL);
}
