/*-------------------------------------------------------------------------
 *
 * pipeline_runs.c
 *	  Reading and writing incremental.pipeline_runs, the run history that
 *	  also holds each pipeline's statistics.
 *
 * A run has one row, written by its first batch that did work and brought
 * up to date by each batch after it, in the batch's own transaction: the
 * history commits or rolls back with the work it describes, so it is as
 * exact as the progress, whatever ends the run (a crash, a SIGTERM in the
 * middle of a batch, a pause).  A failure is written to the run's row too.
 *
 * Every row carries the pipeline's cumulative counters as of that run,
 * computed from the previous newest row, which is read straight from the
 * (pipeline_name, run_id) index just before the write, and a run's row is
 * written straight to the table's heap and indexes (InsertCatalogRow), its
 * pipeline's row locked as the foreign key's check would: a run's fixed
 * cost matters (bench/overhead.sh), and the executor was most of it.  The
 * writers of one pipeline's history take turns (LockPipelineHistory), so
 * the newest row cannot change underneath a write.  Trimming never removes
 * a pipeline's newest row, so no count is ever lost to it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "catalog/catalog_access.h"
#include "catalog/pipeline_catalog.h"

static CatalogStatement UpdateRunStatement = {
	.sql = "UPDATE incremental.pipeline_runs SET "
	"ended_at = $2, status = $3, batches = $4, items_processed = $5, "
	"rows_processed = $6, range_end = $7, error_message = $8, error_sqlstate = $9, "
	"next_retry_at = $10, total_failures = $11, consecutive_failures = $12, "
	"total_items = $13, total_exec_time = $14, last_success = $15, "
	"last_error_message = $16, last_error_sqlstate = $17 "
	"WHERE run_id = $1",
	.nargs = 17,
	.argtypes = {INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT8OID, INT8OID, TEXTOID,
		TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT4OID, INT8OID, FLOAT8OID,
		TIMESTAMPTZOID, TEXTOID, TEXTOID},
};

static CatalogStatement InsertSkipStatement = {
	.sql = "INSERT INTO incremental.pipeline_runs (pipeline_name, started_at, ended_at, "
	"status, triggered_by, batches, items_processed, rows_processed, range_start, range_end, "
	"skipped_by, total_runs, total_failures, consecutive_failures, total_items, "
	"total_exec_time, last_success, last_error_message, last_error_sqlstate, stats_reset) "
	"SELECT $1, pg_catalog.now(), pg_catalog.now(), 'skipped', 'user', 0, $2, 0, $3, $4, $5, "
	"coalesce(r.total_runs, 0), coalesce(r.total_failures, 0), 0, coalesce(r.total_items, 0), "
	"coalesce(r.total_exec_time, 0), r.last_success, r.last_error_message, "
	"r.last_error_sqlstate, r.stats_reset "
	"FROM (SELECT) one LEFT JOIN LATERAL (SELECT * FROM incremental.pipeline_runs p "
	"WHERE p.pipeline_name OPERATOR(pg_catalog.=) $1 ORDER BY p.run_id DESC LIMIT 1) r ON true",
	.nargs = 5,
	.argtypes = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID},
};

static CatalogStatement RunExistsStatement = {
	.sql = "SELECT 1 FROM incremental.pipeline_runs WHERE run_id = $1",
	.nargs = 1,
	.argtypes = {INT8OID},
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

static void LockPipelineHistory(const char *pipelineName);
static int64 InsertRunRow(const PipelineRunRecord *record, Datum key, Datum *previous,
						  bool *previousNulls, bool continued);
static void UpdateRunRow(const PipelineRunRecord *record, Datum *row, bool *rowNulls);
static bool RunRowExists(int64 runId);
static int64 AddInt64(int64 a, int64 b);
static void CarryCountersForward(const PipelineRunRecord *record, bool continued,
								 Datum *previous, bool *previousNulls, Datum *values,
								 char *nulls);
static void RememberStanding(PipelineStanding *standing, Datum *previous, bool *previousNulls);
static void CarryColumn(Datum *previous, bool *previousNulls, AttrNumber attribute,
						bool replace, Datum value, bool isNull, Datum *newValue,
						char *newNull);


/*
 * WritePipelineRun writes a run's row in the current transaction.  While
 * the row the run wrote last is still the pipeline's newest, the record's
 * figures are added to it; otherwise a new row is inserted, with the
 * counters carried forward from the newest.  That happens on a run's
 * first write, and also when another session's run was recorded in
 * between (a manual run between two scheduled batches), where the run
 * goes on in a row of its own that does not count it again, and when the
 * transaction of the last write rolled back, where the new row is the
 * run's first.  Returns the run_id of the row written, for the run's next
 * write.
 */
int64
WritePipelineRun(const PipelineRunRecord *record)
{
	Datum		key = CStringGetTextDatum(record->pipelineName);
	Datum		newest[Natts_pipeline_runs];
	bool		newestNulls[Natts_pipeline_runs];
	bool		hasNewest;

	LockPipelineHistory(record->pipelineName);
	hasNewest = ReadNewestCatalogRow(CATALOG_PIPELINE_RUNS, PIPELINE_RUNS_NAME_INDEX,
									 Anum_pipeline_runs_pipeline_name, key,
									 newest, newestNulls);

	if (hasNewest && record->runId != 0 &&
		DatumGetInt64(newest[Anum_pipeline_runs_run_id - 1]) == record->runId)
	{
		UpdateRunRow(record, newest, newestNulls);
		return record->runId;
	}

	return InsertRunRow(record, key, hasNewest ? newest : NULL, newestNulls,
						record->runId != 0 && RunRowExists(record->runId));
}


/* RunRowExists: the row is there (its transaction did not roll back) */
static bool
RunRowExists(int64 runId)
{
	Datum		key = Int64GetDatum(runId);
	Datum		one;
	bool		oneNull;

	return QueryCatalog(&RunExistsStatement, &key, NULL, &one, &oneNull, 1);
}


/*
 * InsertRunRow adds a run's row after the pipeline's newest (previous);
 * 'continued' when the run already has a row, further back.
 */
static int64
InsertRunRow(const PipelineRunRecord *record, Datum key, Datum *previous,
			 bool *previousNulls, bool continued)
{
	Datum		values[22];
	char		nulls[22];
	Datum		row[Natts_pipeline_runs];
	bool		rowNulls[Natts_pipeline_runs];
	int64		runId;

	StaticAssertStmt(lengthof(values) + 2 == Natts_pipeline_runs,
					 "a run's row is run_id, the values and skipped_by");

	memset(nulls, ' ', sizeof(nulls));
	values[0] = key;
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

	CarryCountersForward(record, continued, previous, previousNulls, values + 13, nulls + 13);
	if (record->standing != NULL)
		RememberStanding(record->standing, previous, previousNulls);

	/* the foreign key's check: the pipeline's row stays until we commit */
	if (!LockCatalogRowForKeyShare(CATALOG_PIPELINES, key))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" was dropped while it ran", record->pipelineName)));

	/* the row: run_id, the statement's columns, skipped_by */
	runId = NextCatalogIdentity(CATALOG_PIPELINE_RUNS, Anum_pipeline_runs_run_id);
	row[0] = Int64GetDatum(runId);
	rowNulls[0] = false;
	for (int i = 0; i < (int) lengthof(values); i++)
	{
		row[i + 1] = values[i];
		rowNulls[i + 1] = nulls[i] == 'n';
	}
	row[Anum_pipeline_runs_skipped_by - 1] = (Datum) 0;
	rowNulls[Anum_pipeline_runs_skipped_by - 1] = true;
	InsertCatalogRow(CATALOG_PIPELINE_RUNS, row, rowNulls);

	return runId;
}


/*
 * UpdateRunRow adds the record's figures to the run's own row, the
 * pipeline's newest.  A failure makes the whole run failed: its failure
 * continues the series of failures that stood before the run, and the
 * pipeline's last success stays the one before the run (record->standing,
 * remembered when the row was inserted: the row before may be trimmed by
 * now).
 */
static void
UpdateRunRow(const PipelineRunRecord *record, Datum *row, bool *rowNulls)
{
	bool		failed = !record->succeeded;
	Datum		values[17];
	char		nulls[17];
	int32		batches;
	int32		consecutiveFailures = 0;
	Datum		lastSuccess = TimestampTzGetDatum(record->endedAt);
	bool		lastSuccessNull = false;

	if (pg_add_s32_overflow(DatumGetInt32(row[Anum_pipeline_runs_batches - 1]),
							record->batches, &batches))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	if (failed)
	{
		PipelineStanding *standing = record->standing;

		consecutiveFailures = standing != NULL ? standing->consecutiveFailures : 0;
		lastSuccess = TimestampTzGetDatum(standing != NULL ? standing->lastSuccess : 0);
		lastSuccessNull = standing == NULL || standing->lastSuccess == 0;
		if (pg_add_s32_overflow(consecutiveFailures, 1, &consecutiveFailures))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(record->runId);
	values[1] = TimestampTzGetDatum(record->endedAt);
	values[2] = CStringGetTextDatum(failed ? "failed" : "succeeded");
	values[3] = Int32GetDatum(batches);
	values[4] = Int64GetDatum(AddInt64(DatumGetInt64(row[Anum_pipeline_runs_items_processed - 1]),
									   record->itemsProcessed));
	values[5] = Int64GetDatum(AddInt64(DatumGetInt64(row[Anum_pipeline_runs_rows_processed - 1]),
									   record->rowsProcessed));
	CarryColumn(row, rowNulls, Anum_pipeline_runs_range_end, record->rangeEnd != NULL,
				OptionalTextDatum(record->rangeEnd), false, &values[6], &nulls[6]);
	values[7] = OptionalTextDatum(record->errorMessage);
	nulls[7] = NullFlag(record->errorMessage == NULL);
	values[8] = OptionalTextDatum(record->errorSqlstate);
	nulls[8] = NullFlag(record->errorSqlstate == NULL);
	values[9] = TimestampTzGetDatum(record->nextRetryAt);
	nulls[9] = NullFlag(record->nextRetryAt == 0);
	values[10] = Int64GetDatum(AddInt64(DatumGetInt64(row[Anum_pipeline_runs_total_failures - 1]),
										failed ? 1 : 0));
	values[11] = Int32GetDatum(consecutiveFailures);
	values[12] = Int64GetDatum(AddInt64(DatumGetInt64(row[Anum_pipeline_runs_total_items - 1]),
										record->itemsProcessed));
	values[13] = Float8GetDatum(float8_pl(DatumGetFloat8(row[Anum_pipeline_runs_total_exec_time - 1]),
										  record->execTimeMs));
	values[14] = lastSuccess;
	nulls[14] = NullFlag(lastSuccessNull);
	CarryColumn(row, rowNulls, Anum_pipeline_runs_last_error_message, failed,
				OptionalTextDatum(record->errorMessage), record->errorMessage == NULL,
				&values[15], &nulls[15]);
	CarryColumn(row, rowNulls, Anum_pipeline_runs_last_error_sqlstate, failed,
				OptionalTextDatum(record->errorSqlstate), record->errorSqlstate == NULL,
				&values[16], &nulls[16]);

	ModifyCatalog(&UpdateRunStatement, values, nulls);
}


/* AddInt64 adds with the overflow check of the SQL operator */
static int64
AddInt64(int64 a, int64 b)
{
	int64		result;

	if (pg_add_s64_overflow(a, b, &result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	return result;
}


/*
 * LockPipelineHistory serializes the writers of one pipeline's history
 * until they commit, so that each carries the counters of the one before.
 * Runs hold the pipeline's lock anyway, but a failure is recorded after
 * its transaction (and that lock) is gone, and may meet a run of another
 * session.  The lock is on the history table as an object, keyed by a hash
 * of the name: a collision only makes two pipelines take turns.
 */
static void
LockPipelineHistory(const char *pipelineName)
{
	uint32		key = hash_bytes((const unsigned char *) pipelineName, strlen(pipelineName));

	LockDatabaseObject(CatalogTableId(CATALOG_PIPELINE_RUNS), key, 0, ExclusiveLock);
}


/*
 * CarryCountersForward computes the cumulative columns of a new run's row
 * (total_runs .. stats_reset) from the pipeline's newest row, if any, with
 * the overflow checks of the SQL operators.
 */
static void
CarryCountersForward(const PipelineRunRecord *record, bool continued, Datum *previous,
					 bool *previousNulls, Datum *values, char *nulls)
{
	bool		failed = !record->succeeded;
	int64		totalRuns = 0;
	int64		totalFailures = 0;
	int32		consecutiveFailures = 0;
	int64		totalItems = 0;
	float8		totalExecTime = 0;

	if (previous != NULL)
	{
		totalRuns = DatumGetInt64(previous[Anum_pipeline_runs_total_runs - 1]);
		totalFailures = DatumGetInt64(previous[Anum_pipeline_runs_total_failures - 1]);
		consecutiveFailures =
			DatumGetInt32(previous[Anum_pipeline_runs_consecutive_failures - 1]);
		totalItems = DatumGetInt64(previous[Anum_pipeline_runs_total_items - 1]);
		totalExecTime = DatumGetFloat8(previous[Anum_pipeline_runs_total_exec_time - 1]);
	}

	/* a run that goes on in a row of its own was counted by its first */
	if (!continued)
		totalRuns = AddInt64(totalRuns, 1);
	totalFailures = AddInt64(totalFailures, failed ? 1 : 0);
	totalItems = AddInt64(totalItems, record->itemsProcessed);
	if (failed && pg_add_s32_overflow(consecutiveFailures, 1, &consecutiveFailures))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));

	values[0] = Int64GetDatum(totalRuns);
	values[1] = Int64GetDatum(totalFailures);
	values[2] = Int32GetDatum(failed ? consecutiveFailures : 0);
	values[3] = Int64GetDatum(totalItems);
	values[4] = Float8GetDatum(float8_pl(totalExecTime, record->execTimeMs));

	/* last_success, last_error_message, last_error_sqlstate, stats_reset */
	CarryColumn(previous, previousNulls, Anum_pipeline_runs_last_success,
				!failed, TimestampTzGetDatum(record->endedAt), false, &values[5], &nulls[5]);
	CarryColumn(previous, previousNulls, Anum_pipeline_runs_last_error_message,
				failed, OptionalTextDatum(record->errorMessage),
				record->errorMessage == NULL, &values[6], &nulls[6]);
	CarryColumn(previous, previousNulls, Anum_pipeline_runs_last_error_sqlstate,
				failed, OptionalTextDatum(record->errorSqlstate),
				record->errorSqlstate == NULL, &values[7], &nulls[7]);
	CarryColumn(previous, previousNulls, Anum_pipeline_runs_stats_reset,
				false, (Datum) 0, true, &values[8], &nulls[8]);
}


/* RememberStanding keeps how the pipeline stood before a run's row */
static void
RememberStanding(PipelineStanding *standing, Datum *previous, bool *previousNulls)
{
	memset(standing, 0, sizeof(PipelineStanding));
	if (previous == NULL)
		return;

	standing->consecutiveFailures =
		DatumGetInt32(previous[Anum_pipeline_runs_consecutive_failures - 1]);
	if (!previousNulls[Anum_pipeline_runs_last_success - 1])
		standing->lastSuccess =
			DatumGetTimestampTz(previous[Anum_pipeline_runs_last_success - 1]);
}


/*
 * CarryColumn sets a column of the new row to the given value when replace
 * is set, and to the previous row's value (NULL without one) otherwise.
 */
static void
CarryColumn(Datum *previous, bool *previousNulls, AttrNumber attribute, bool replace,
			Datum value, bool isNull, Datum *newValue, char *newNull)
{
	if (!replace)
	{
		isNull = previous == NULL || previousNulls[attribute - 1];
		value = isNull ? (Datum) 0 : previous[attribute - 1];
	}

	*newValue = value;
	*newNull = NullFlag(isNull);
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

	LockPipelineHistory(pipelineName);
	ModifyCatalog(&ResetStatsStatement, &key, NULL);
}


/*
 * TrimPipelineRuns removes runs that ended longer than retentionSeconds ago
 * (-1: no age limit) and all but the newest maxRunsPerPipeline runs of each
 * pipeline, keeping every pipeline's newest run.  Returns the rows removed.
 * A database's workers trim in turn: while one does, the others skip it
 * (an object lock on the history table, with a sub-ID the writers' locks
 * never use).
 */
uint64
TrimPipelineRuns(int64 retentionSeconds, int32 maxRunsPerPipeline)
{
	Datum		values[2];
	LOCKTAG		trimTag;

	SET_LOCKTAG_OBJECT(trimTag, MyDatabaseId, CatalogTableId(CATALOG_PIPELINE_RUNS), 0, 1);
	if (LockAcquire(&trimTag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return 0;

	values[0] = Float8GetDatum((double) retentionSeconds);
	values[1] = Int32GetDatum(Max(maxRunsPerPipeline, 1));

	return ModifyCatalog(&TrimStatement, values, NULL);
}


/*
 * WriteSkippedRange records in the run history that a range was skipped,
 * by whom, carrying the pipeline's statistics over; its consecutive
 * failures start again from 0.
 */
void
WriteSkippedRange(const char *pipelineName, int64 items, const char *rangeStart,
				  const char *rangeEnd, const char *skippedBy)
{
	Datum		values[5];

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = Int64GetDatum(items);
	values[2] = CStringGetTextDatum(rangeStart);
	values[3] = CStringGetTextDatum(rangeEnd);
	values[4] = CStringGetTextDatum(skippedBy);
	ModifyCatalog(&InsertSkipStatement, values, NULL);
}
