/*-------------------------------------------------------------------------
 *
 * time_interval.c
 *	  Time interval pipelines: the command receives the start and end ($1
 *	  and $2, timestamptz, [start, end)) of intervals that have passed.
 *
 * Interval boundaries are start_time + k * time_interval for whole k,
 * computed with calendar arithmetic in the time zone captured when the
 * pipeline was created, so '1 month' intervals end on the same day of
 * every month and '1 day' intervals at local midnight across daylight
 * saving changes.  Each boundary is computed from start_time rather than
 * from the previous boundary, so month ends never drift (Jan 31, Feb 29,
 * Mar 31).
 *
 * An interval is processed once it ended at least min_delay ago.  Batched
 * pipelines hand all such intervals to one command; the others get one
 * interval per batch, in order, and the caller may commit between them.
 *
 * The SQL function that creates time interval pipelines is in
 * time_interval_api.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "catalog/pipeline_catalog.h"
#include "distributed/citus_nodes.h"
#include "distributed/citus_tables.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/source_writers.h"

PG_FUNCTION_INFO_V1(incremental_intervals_passed);

/* The range of a batch: from the progress to the end of the last interval */
typedef struct IntervalRange
{
	TimestampTz firstEnd;		/* end of the interval after the progress,
								 * whether or not it has passed */
	TimestampTz start;
	TimestampTz end;
	int64		intervals;		/* how many intervals the range covers */
	bool		morePassed;		/* another interval has passed after it */
} IntervalRange;

static bool NextIntervalRange(const TimeIntervalPipelineState *state, TimestampTz now,
							  int64 leastDelayUsecs, IntervalRange *range);
static bool ComputeIntervalRange(const TimeIntervalPipelineState *state, TimestampTz now,
								 int64 leastDelayUsecs, IntervalRange *range);
static TimestampTz IntervalBoundary(const TimeIntervalPipelineState *state, int64 index);
static int64 IntervalIndexAt(const TimeIntervalPipelineState *state, TimestampTz time);


/*
 * ExecuteTimeIntervalBatch processes the next interval (or, when batched,
 * all intervals) that ended at least min_delay ago.
 */
PipelineBatchOutcome
ExecuteTimeIntervalBatch(const Pipeline *pipeline, KindRunState *runState,
						 BatchResult *result)
{
	TimeIntervalPipelineState *state = ReadTimeIntervalPipelineState(pipeline->name);
	IntervalRange range;
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	bool		hasSource = OidIsValid(pipeline->sourceRelationId);

	/*
	 * With a source, an interval waits at least TRANSACTION_START_MARGIN_MS
	 * after its end, whatever min_delay says: a writer's now() is taken a
	 * moment before its transaction shows up in the wait below.
	 */
	if (!NextIntervalRange(state, GetCurrentTransactionStartTimestamp(),
						   hasSource ? TRANSACTION_START_MARGIN_MS * INT64CONST(1000) : 0,
						   &range))
	{
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\": no interval has passed", pipeline->name)));
		return PIPELINE_BATCH_NO_WORK;
	}

	/* the command runs in the pipeline's time zone too */
	SetPipelineTimeZone(state->timeZone);

	/*
	 * Rows are stamped with their writer's now(), the start of its
	 * transaction: every transaction that began before the range ends may
	 * still add rows to it, not only those that already wrote to the source.
	 */
	if (hasSource)
	{
		CheckWaitIsMeaningful(pipeline->name);
		if (!WaitForSourceWriters(pipeline->sourceRelationId, InvalidOid, range.end,
								  runState->writerWaitMs) ||
			(IsDistributedSource(pipeline->sourceRelationId) &&
			 !WaitForWritersOnOtherNodes(ReadOtherNodes(), pipeline->sourceRelationId,
										 InvalidOid, range.end, runState->writerWaitMs)))
		{
			ereport(DEBUG1,
					(errmsg_internal("pipeline \"%s\": writers of its source are still at work",
							pipeline->name)));
			return PIPELINE_BATCH_SOURCE_BUSY;
		}
	}

	/* timestamptz_to_str returns a static buffer */
	result->rangeStart = pstrdup(timestamptz_to_str(range.start));
	result->rangeEnd = pstrdup(timestamptz_to_str(range.end));
	ereport(NOTICE,
			(errmsg("pipeline \"%s\": processing time range from %s to %s",
					pipeline->name, result->rangeStart, result->rangeEnd)));

	values[0] = TimestampTzGetDatum(range.start);
	values[1] = TimestampTzGetDatum(range.end);
	result->rowsProcessed = ExecutePipelineCommand(pipeline, 2, argtypes, values);
	result->itemsProcessed = range.intervals;

	UpdateLastProcessedTime(pipeline->name, range.end);

	return range.morePassed ? PIPELINE_BATCH_MORE : PIPELINE_BATCH_DONE;
}


/*
 * NextIntervalRange computes the range the next batch processes, in the
 * pipeline's time zone, for intervals that ended min_delay (and at least
 * leastDelayUsecs) before 'now', and returns false when none has.
 *
 * The zone is swapped in directly rather than through the TimeZone
 * setting: a setting changed in the batch makes RestoreFromPipelineOwner
 * visit every setting, which is most of the cost of a run that finds
 * nothing to do (bench/noop.sh).  A zone name that only the setting can
 * interpret (a number of hours) takes the slow path, in a nest level of
 * its own, since the scheduler calls this outside any owner switch.
 */
static bool
NextIntervalRange(const TimeIntervalPipelineState *state, TimestampTz now,
				  int64 leastDelayUsecs, IntervalRange *range)
{
	pg_tz	   *sessionZone = session_timezone;
	pg_tz	   *pipelineZone = NULL;
	char	   *numberEnd;
	bool		found = false;

	(void) strtod(state->timeZone, &numberEnd);
	if (numberEnd == state->timeZone || *numberEnd != '\0')
		pipelineZone = pg_tzset(state->timeZone);

	if (pipelineZone == NULL || !pg_tz_acceptable(pipelineZone))
	{
		int			gucNestLevel = NewGUCNestLevel();

		SetPipelineTimeZone(state->timeZone);
		found = ComputeIntervalRange(state, now, leastDelayUsecs, range);
		AtEOXact_GUC(false, gucNestLevel);
		return found;
	}

	session_timezone = pipelineZone;
	PG_TRY();
	{
		found = ComputeIntervalRange(state, now, leastDelayUsecs, range);
	}
	PG_FINALLY();
	{
		session_timezone = sessionZone;
	}
	PG_END_TRY();

	return found;
}


/* ComputeIntervalRange is NextIntervalRange in the session's time zone */
static bool
ComputeIntervalRange(const TimeIntervalPipelineState *state, TimestampTz now,
					 int64 leastDelayUsecs, IntervalRange *range)
{
	TimestampTz safeEnd;
	int64		index;
	int64		endIndex;

	safeEnd = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													  TimestampTzGetDatum(now),
													  IntervalPGetDatum(&state->minDelay)));
	if (now - leastDelayUsecs < safeEnd)
		safeEnd = now - leastDelayUsecs;

	/* the progress lies in interval number 'index' (at its start, normally) */
	index = IntervalIndexAt(state, state->lastProcessedTime);
	range->firstEnd = IntervalBoundary(state, index + 1);
	if (range->firstEnd > safeEnd)
		return false;

	endIndex = state->batched ? IntervalIndexAt(state, safeEnd) : index + 1;

	range->start = state->lastProcessedTime;
	range->end = IntervalBoundary(state, endIndex);
	range->intervals = endIndex - index;
	range->morePassed = !state->batched && IntervalBoundary(state, endIndex + 1) <= safeEnd;

	return true;
}


/*
 * PreviewTimeIntervalBatches: the intervals that ended min_delay ago, one
 * batch each, or all in one batch when batched.
 */
List *
PreviewTimeIntervalBatches(const Pipeline *pipeline, int maxBatches)
{
	TimeIntervalPipelineState *state = ReadTimeIntervalPipelineState(pipeline->name);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		leastDelay = OidIsValid(pipeline->sourceRelationId) ?
		TRANSACTION_START_MARGIN_MS * INT64CONST(1000) : 0;
	List	   *batches = NIL;
	IntervalRange range;

	while (list_length(batches) < maxBatches &&
		   NextIntervalRange(state, now, leastDelay, &range))
	{
		BatchPreview *batch = palloc0(sizeof(BatchPreview));

		batch->first = pstrdup(timestamptz_to_str(range.start));
		batch->last = pstrdup(timestamptz_to_str(range.end));
		batch->items = range.intervals;
		batch->arguments = list_make2(batch->first, batch->last);
		batches = lappend(batches, batch);

		state->lastProcessedTime = range.end;
		if (!range.morePassed)
			break;
	}
	return batches;
}


int64
SkipTimeIntervalRange(const Pipeline *pipeline, const char *first, const char *last)
{
	TimeIntervalPipelineState *state = ReadTimeIntervalPipelineState(pipeline->name);
	TimestampTz from = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																CStringGetDatum(first),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
	TimestampTz to = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															  CStringGetDatum(last),
															  ObjectIdGetDatum(InvalidOid),
															  Int32GetDatum(-1)));
	int64		fromIndex;
	int64		toIndex;
	int			gucNestLevel = NewGUCNestLevel();

	/* interval boundaries are the pipeline's, in its time zone */
	SetPipelineTimeZone(state->timeZone);
	fromIndex = IntervalIndexAt(state, state->lastProcessedTime);
	toIndex = IntervalIndexAt(state, to);
	if (from != state->lastProcessedTime)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline \"%s\" would process from %s next", pipeline->name,
						timestamptz_to_str(state->lastProcessedTime)),
				 errdetail("A skip moves the progress forward: it starts where the next batch "
						   "would."),
				 errhint("incremental.preview_pipeline shows the next batches.")));
	if (IntervalBoundary(state, toIndex) != to || toIndex <= fromIndex)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not the end of an interval after the progress of pipeline \"%s\"",
						last, pipeline->name),
				 errhint("Give the end of the last interval to skip, as preview_pipeline "
						 "shows it.")));
	if (to > GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the intervals to skip have not ended yet")));
	AtEOXact_GUC(false, gucNestLevel);

	UpdateLastProcessedTime(pipeline->name, to);
	return toIndex - fromIndex;
}


/*
 * TimeIntervalPipelineMayHaveWork is the scheduler's cheap look before a
 * run (pipeline_probe.h): false when no interval after the pipeline's
 * progress ended at least min_delay before 'now'.  A look that finds none
 * notes when the next one could be ready; until then, no catalog is read.
 */
bool
TimeIntervalPipelineMayHaveWork(const char *pipelineName, TimestampTz now,
								PipelineProbe *probe)
{
	TimeIntervalPipelineState *state;
	const Interval *minDelay;
	IntervalRange range;

	if (probe->valid && now < probe->workAt)
		return false;

	/* the batch may wait a little longer (TRANSACTION_START_MARGIN_MS) */
	state = ReadTimeIntervalPipelineState(pipelineName);
	if (NextIntervalRange(state, now, 0, &range))
		return true;

	/*
	 * The next interval is ready once now - min_delay reaches its end: not
	 * before end + min_delay when min_delay is a plain duration, and, since
	 * min_delay is never negative, not before the end in any case.
	 */
	minDelay = &state->minDelay;
	probe->workAt = range.firstEnd;
	if (minDelay->month == 0 && minDelay->day == 0)
	{
		TimestampTz delayedEnd;

		if (!pg_add_s64_overflow(range.firstEnd, minDelay->time, &delayedEnd))
			probe->workAt = Max(delayedEnd, range.firstEnd);
	}

	return false;
}


/* IntervalBoundary returns start_time + index * time_interval */
static TimestampTz
IntervalBoundary(const TimeIntervalPipelineState *state, int64 index)
{
	const Interval *interval = &state->timeInterval;
	bool		hasCalendarPart = interval->month != 0 || interval->day != 0;
	Interval	offset;

	/* months and days are int32; pure time intervals may have many more */
	if ((hasCalendarPart && index != (int32) index) ||
		pg_mul_s32_overflow(interval->month, (int32) index, &offset.month) ||
		pg_mul_s32_overflow(interval->day, (int32) index, &offset.day) ||
		pg_mul_s64_overflow(interval->time, index, &offset.time))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("interval number " INT64_FORMAT " after start_time is out of range",
						index)));

	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(state->startTime),
												   IntervalPGetDatum(&offset)));
}


/*
 * IntervalIndexAt returns the number of the interval that contains the
 * given time: the largest index whose boundary is not after it.  It
 * estimates the index from the interval's average length, then corrects
 * the estimate, which is off by a few intervals at most (months differ in
 * length, days across daylight saving changes).
 */
static int64
IntervalIndexAt(const TimeIntervalPipelineState *state, TimestampTz time)
{
	const Interval *interval = &state->timeInterval;
	double		averageLength = interval->month * (DAYS_PER_YEAR / MONTHS_PER_YEAR) *
		USECS_PER_DAY + (double) interval->day * USECS_PER_DAY + (double) interval->time;
	int64		index = (int64) floor((double) (time - state->startTime) / averageLength);

	while (IntervalBoundary(state, index) > time)
		index--;
	while (IntervalBoundary(state, index + 1) <= time)
		index++;

	return index;
}


/*
 * incremental._intervals_passed(start_time, time_interval, from_time,
 * to_time, time_zone) counts the interval boundaries in (from_time,
 * to_time]: for monitoring, how many intervals a pipeline has yet to
 * process.  Intervals with a calendar part are computed in time_zone; the
 * session's zone is swapped in for the computation only.
 */
Datum
incremental_intervals_passed(PG_FUNCTION_ARGS)
{
	TimeIntervalPipelineState state = {0};
	TimestampTz fromTime = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz toTime = PG_GETARG_TIMESTAMPTZ(3);
	char	   *timeZone = text_to_cstring(PG_GETARG_TEXT_PP(4));
	pg_tz	   *sessionZone = session_timezone;
	pg_tz	   *pipelineZone;
	int64		intervals;

	state.startTime = PG_GETARG_TIMESTAMPTZ(0);
	state.timeInterval = *PG_GETARG_INTERVAL_P(1);

	if (toTime <= fromTime || TIMESTAMP_NOT_FINITE(fromTime) || TIMESTAMP_NOT_FINITE(toTime))
		PG_RETURN_INT64(0);
	/* no boundary is finite: IntervalIndexAt would search forever */
	if (TIMESTAMP_NOT_FINITE(state.startTime))
		PG_RETURN_NULL();
	if (state.timeInterval.month < 0 || state.timeInterval.day < 0 ||
		state.timeInterval.time < 0 ||
		(state.timeInterval.month == 0 && state.timeInterval.day == 0 &&
		 state.timeInterval.time == 0))
		PG_RETURN_NULL();

	pipelineZone = pg_tzset(timeZone);
	if (pipelineZone == NULL)
		PG_RETURN_NULL();

	session_timezone = pipelineZone;
	PG_TRY();
	{
		if (pg_sub_s64_overflow(IntervalIndexAt(&state, toTime),
								IntervalIndexAt(&state, fromTime), &intervals))
			intervals = -1;
	}
	PG_FINALLY();
	{
		session_timezone = sessionZone;
	}
	PG_END_TRY();

	/* more intervals than a bigint counts */
	if (intervals < 0)
		PG_RETURN_NULL();

	PG_RETURN_INT64(intervals);
}


void
ResetTimeIntervalPipeline(const Pipeline *pipeline)
{
	TimeIntervalPipelineState *state = ReadTimeIntervalPipelineState(pipeline->name);

	UpdateLastProcessedTime(pipeline->name, state->startTime);
}
