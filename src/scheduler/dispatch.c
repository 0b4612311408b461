/*-------------------------------------------------------------------------
 *
 * dispatch.c
 *	  Deciding which pipelines of a database are due, and running one
 *	  batch of each per round.
 *
 * The worker re-reads incremental.pipelines at every round: the table is
 * small, and a fresh read cannot go stale the way an invalidated cache
 * can.  What the catalog does not say lives here, one ScheduledPipeline per
 * pipeline: the parsed schedule, when the last run started, when the next
 * is due, failures and the backoff they earned, and the run in progress.
 *
 * A run is a sequence of batches (src/pipelines/pipeline_run.h).  Each
 * round gives every due pipeline one batch, in its own transaction,
 * committed before the next pipeline's turn; a pipeline with a backlog
 * stays due, so the worker goes round again at once.  One pipeline's
 * backlog thus never starves the others, and every batch is committed.
 *
 * A batch that fails is caught, logged and recorded (in a new transaction,
 * since the batch's is lost) and the pipeline is retried with exponential
 * backoff; the other pipelines go on.  A batch that finds the pipeline
 * locked by another session (a manual execute_pipeline) is skipped, not
 * queued.  Runs missed while the worker was away coalesce into one: a
 * pipeline is due when its next run time has passed, however long ago.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_run.h"
#include "scheduler/dispatch.h"
#include "scheduler/guc.h"
#include "scheduler/process_common.h"
#include "scheduler/schedule.h"
#include "scheduler/worker_xact.h"

/* Backoff after consecutive failures of a pipeline */
#define FAILURE_BACKOFF_BASE_MS 1000
#define FAILURE_BACKOFF_MAX_MS (300 * 1000)

/* How often the worker trims incremental.pipeline_runs */
#define HISTORY_TRIM_INTERVAL_MS (60 * 1000)

/* While a pipeline keeps failing the same way, log it this rarely */
#define FAILURE_LOG_INTERVAL_MS (10 * 60 * 1000)

typedef struct ScheduledPipeline
{
	char	   *name;
	char	   *scheduleText;	/* as last read; NULL: manual only */
	Schedule	schedule;
	bool		scheduleValid;	/* false: manual only, or unparsable */
	bool		paused;
	bool		seen;			/* found by the latest catalog read */

	TimestampTz lastRunStart;	/* 0: never run by the scheduler */
	TimestampTz nextRunAt;		/* DT_NOEND: never */
	int32		consecutiveFailures;
	TimestampTz retryAt;		/* 0: no failure to back off from */
	char	   *lastLoggedError;	/* message of the failure last logged */
	TimestampTz lastLoggedAt;

	/* the run in progress, between its batches */
	PipelineRun *run;
	MemoryContext runContext;
	TimestampTz runStart;
} ScheduledPipeline;

struct PipelineDispatcher
{
	MemoryContext context;		/* lives as long as the worker */
	List	   *pipelines;		/* ScheduledPipeline * */
	pg_tz	   *timezone;		/* zone the cron times were computed in */
	bool		firstRefresh;	/* @reboot schedules fire on this one */
	TimestampTz lastHistoryTrim;	/* when pipeline_runs was last trimmed */
};

static ScheduledPipeline *FindScheduledPipeline(PipelineDispatcher *dispatcher,
												const char *name);
static ScheduledPipeline *AddScheduledPipeline(PipelineDispatcher *dispatcher,
											   const Pipeline *pipeline);
static void SetSchedule(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						const char *scheduleText);
static void ComputeNextRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static void ForgetScheduledPipeline(PipelineDispatcher *dispatcher,
									ScheduledPipeline *scheduled);
static bool IsDue(ScheduledPipeline *scheduled, TimestampTz now);
static bool RunOneBatch(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static void FinishRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
					  PipelineBatchOutcome outcome);
static bool ShouldLogFailure(ScheduledPipeline *scheduled, ErrorData *edata);
static void RecordFailure(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						  ErrorData *edata);
static void EndRun(ScheduledPipeline *scheduled);
static void ScheduledRunErrorContext(void *arg);


PipelineDispatcher *
CreatePipelineDispatcher(void)
{
	MemoryContext context = AllocSetContextCreate(TopMemoryContext,
												  "pg_incremental dispatcher",
												  ALLOCSET_DEFAULT_SIZES);
	PipelineDispatcher *dispatcher = MemoryContextAllocZero(context,
															sizeof(PipelineDispatcher));

	dispatcher->context = context;
	dispatcher->timezone = SchedulerTimezone();
	dispatcher->firstRefresh = true;
	return dispatcher;
}


/*
 * RefreshPipelines merges the catalog's pipelines into the dispatcher's
 * state.  Runs in the caller's transaction.
 */
void
RefreshPipelines(PipelineDispatcher *dispatcher)
{
	List	   *pipelines = ReadAllPipelines();
	bool		timezoneChanged = dispatcher->timezone != SchedulerTimezone();
	ListCell   *cell;

	foreach(cell, dispatcher->pipelines)
		((ScheduledPipeline *) lfirst(cell))->seen = false;

	dispatcher->timezone = SchedulerTimezone();

	foreach(cell, pipelines)
	{
		Pipeline   *pipeline = lfirst(cell);
		ScheduledPipeline *scheduled = FindScheduledPipeline(dispatcher, pipeline->name);

		if (scheduled == NULL)
			scheduled = AddScheduledPipeline(dispatcher, pipeline);
		else if (timezoneChanged ||
				 (pipeline->schedule == NULL) != (scheduled->scheduleText == NULL) ||
				 (pipeline->schedule != NULL &&
				  strcmp(pipeline->schedule, scheduled->scheduleText) != 0))
			SetSchedule(dispatcher, scheduled, pipeline->schedule);

		/* a pipeline that pg_cron runs is left alone, like a paused one */
		scheduled->paused = pipeline->paused ||
			pipeline->scheduledBy != PIPELINE_SCHEDULER_INTERNAL;
		scheduled->seen = true;

		/* a pipeline paused in the middle of a backlog stops here */
		if (scheduled->paused && scheduled->run != NULL)
			EndRun(scheduled);
	}

	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (!scheduled->seen)
		{
			ForgetScheduledPipeline(dispatcher, scheduled);
			dispatcher->pipelines = foreach_delete_current(dispatcher->pipelines, cell);
		}
	}

	dispatcher->firstRefresh = false;
}


static ScheduledPipeline *
FindScheduledPipeline(PipelineDispatcher *dispatcher, const char *name)
{
	ListCell   *cell;

	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (strcmp(scheduled->name, name) == 0)
			return scheduled;
	}
	return NULL;
}


/*
 * AddScheduledPipeline starts tracking a pipeline, picking up where the
 * scheduler left it before a restart: the start of its last run (interval
 * schedules count from there) and any backoff from failures.
 */
static ScheduledPipeline *
AddScheduledPipeline(PipelineDispatcher *dispatcher, const Pipeline *pipeline)
{
	ScheduledPipeline *scheduled;
	PipelineRunSummary summary;
	MemoryContext oldContext;

	scheduled = MemoryContextAllocZero(dispatcher->context, sizeof(ScheduledPipeline));
	scheduled->name = MemoryContextStrdup(dispatcher->context, pipeline->name);

	if (ReadPipelineRunSummary(pipeline->name, &summary))
	{
		scheduled->lastRunStart = summary.lastRunStart;
		scheduled->consecutiveFailures = summary.consecutiveFailures;
		scheduled->retryAt = summary.nextRetryAt;
	}

	SetSchedule(dispatcher, scheduled, pipeline->schedule);

	/* the list outlives the transaction that reads the catalog */
	oldContext = MemoryContextSwitchTo(dispatcher->context);
	dispatcher->pipelines = lappend(dispatcher->pipelines, scheduled);
	MemoryContextSwitchTo(oldContext);

	return scheduled;
}


/* SetSchedule parses a (new) schedule and computes the next run from it */
static void
SetSchedule(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
			const char *scheduleText)
{
	char	   *errorMessage = NULL;

	if (scheduled->scheduleText != NULL)
		pfree(scheduled->scheduleText);
	scheduled->scheduleText = NULL;
	scheduled->scheduleValid = false;

	if (scheduleText != NULL)
	{
		scheduled->scheduleText = MemoryContextStrdup(dispatcher->context, scheduleText);
		scheduled->scheduleValid = ParseSchedule(scheduleText, &scheduled->schedule,
												 &errorMessage);

		/* the catalog's CHECK constraint makes this unlikely */
		if (!scheduled->scheduleValid)
			ereport(WARNING,
					(errmsg("pipeline \"%s\" is not scheduled: %s",
							scheduled->name, errorMessage)));
	}

	ComputeNextRun(dispatcher, scheduled);
}


/*
 * ComputeNextRun sets when the pipeline is next due: the first schedule
 * time after its last run started or, for a pipeline the scheduler has not
 * run yet, after now.  A time already past makes the pipeline due once,
 * however many runs were missed.
 */
static void
ComputeNextRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	TimestampTz after = scheduled->lastRunStart;

	if (!scheduled->scheduleValid)
	{
		scheduled->nextRunAt = DT_NOEND;
		return;
	}

	if (after == 0)
		after = GetCurrentTimestamp();

	if (scheduled->schedule.atStartup)
		scheduled->nextRunAt = dispatcher->firstRefresh ? GetCurrentTimestamp() : DT_NOEND;
	else
		scheduled->nextRunAt = ScheduleNextRun(&scheduled->schedule, after,
											   dispatcher->timezone);
}


static void
ForgetScheduledPipeline(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	EndRun(scheduled);
	if (scheduled->scheduleText != NULL)
		pfree(scheduled->scheduleText);
	if (scheduled->lastLoggedError != NULL)
		pfree(scheduled->lastLoggedError);
	pfree(scheduled->name);
	pfree(scheduled);
}


static bool
IsDue(ScheduledPipeline *scheduled, TimestampTz now)
{
	if (scheduled->paused || !scheduled->scheduleValid)
		return false;
	if (scheduled->run != NULL)
		return true;
	return now >= scheduled->nextRunAt && now >= scheduled->retryAt;
}


/*
 * RunDuePipelines runs one round: one batch of every due pipeline.
 * Returns false when the extension disappeared meanwhile.
 */
bool
RunDuePipelines(PipelineDispatcher *dispatcher)
{
	TimestampTz now = GetCurrentTimestamp();
	List	   *due = NIL;
	ListCell   *cell;
	bool		extensionPresent = true;

	/* the list may change while batches run; work on a copy */
	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (IsDue(scheduled, now))
			due = lappend(due, scheduled);
	}

	foreach(cell, due)
	{
		CHECK_FOR_INTERRUPTS();

		if (!RunOneBatch(dispatcher, lfirst(cell)))
		{
			extensionPresent = false;
			break;
		}
	}

	list_free(due);
	return extensionPresent;
}


/*
 * RunOneBatch runs the next batch of the pipeline's run, starting the run
 * if needed, in a transaction of its own.  Returns false, having done
 * nothing, when the extension is gone.
 */
static bool
RunOneBatch(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	MemoryContext loopContext = CurrentMemoryContext;
	volatile bool extensionPresent = true;

	if (scheduled->run == NULL)
	{
		scheduled->runStart = GetCurrentTimestamp();
		scheduled->runContext = AllocSetContextCreate(dispatcher->context,
													  "pg_incremental scheduled run",
													  ALLOCSET_DEFAULT_SIZES);
	}

	PG_TRY();
	{
		ErrorContextCallback errorContext;
		PipelineBatchOutcome outcome;

		errorContext.callback = ScheduledRunErrorContext;
		errorContext.arg = scheduled->name;
		errorContext.previous = error_context_stack;
		error_context_stack = &errorContext;

		if (!BeginWorkerTransaction())
		{
			extensionPresent = false;
			EndRun(scheduled);
		}
		else
		{
			if (scheduled->run == NULL)
				scheduled->run = BeginPipelineRun(scheduled->name,
												  PIPELINE_RUN_BY_SCHEDULER,
												  true, scheduled->runContext);

			pgstat_report_activity(STATE_RUNNING, PipelineRunCommand(scheduled->run));
			outcome = ExecutePipelineBatch(scheduled->run);

			switch (outcome)
			{
				case PIPELINE_BATCH_MORE:
					break;
				case PIPELINE_BATCH_DONE:
				case PIPELINE_BATCH_NO_WORK:
				case PIPELINE_BATCH_LOCKED:
					FinishRun(dispatcher, scheduled, outcome);
					break;
				case PIPELINE_BATCH_GONE:
					/* dropped meanwhile; the next refresh forgets it */
					EndRun(scheduled);
					scheduled->paused = true;
					break;
			}
		}

		CommitWorkerTransaction();
		error_context_stack = errorContext.previous;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* the recovery that autovacuum does for a table that failed */
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(loopContext);
		edata = CopyErrorData();
		if (ShouldLogFailure(scheduled, edata))
			EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		disable_all_timeouts(false);
		QueryCancelPending = false;
		RESUME_INTERRUPTS();

		RecordFailure(dispatcher, scheduled, edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(loopContext);
	return extensionPresent;
}


/*
 * FinishRun ends a run that did not fail, in the transaction of its last
 * batch.  A run that processed something was recorded in
 * incremental.pipeline_runs by that batch; one that found nothing new, or
 * was skipped, writes nothing at all, unless it ends a series of failures.
 */
static void
FinishRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
		  PipelineBatchOutcome outcome)
{
	/* the end of a series of failures is recorded even if nothing was new */
	if (scheduled->consecutiveFailures > 0 && outcome != PIPELINE_BATCH_LOCKED)
	{
		RecordSucceededPipelineRun(scheduled->run);
		ereport(LOG,
				(errmsg("pipeline \"%s\" ran again without error after %d failures",
						scheduled->name, scheduled->consecutiveFailures)));
	}

	scheduled->lastRunStart = scheduled->runStart;
	scheduled->consecutiveFailures = 0;
	scheduled->retryAt = 0;
	if (scheduled->lastLoggedError != NULL)
		pfree(scheduled->lastLoggedError);
	scheduled->lastLoggedError = NULL;
	ComputeNextRun(dispatcher, scheduled);
	EndRun(scheduled);
}


/*
 * RecordFailure ends a run whose batch raised an error, and records the
 * failure and the backoff in incremental.pipeline_runs, in a transaction of
 * its own.  Called outside any transaction.
 */
static void
RecordFailure(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
			  ErrorData *edata)
{
	TimestampTz now = GetCurrentTimestamp();
	long		backoffMs;

	scheduled->lastRunStart = scheduled->runStart;
	scheduled->consecutiveFailures++;
	backoffMs = ExponentialBackoffMs(scheduled->consecutiveFailures,
									 FAILURE_BACKOFF_BASE_MS, FAILURE_BACKOFF_MAX_MS);
	scheduled->retryAt = TimestampTzPlusMilliseconds(now, backoffMs);
	ComputeNextRun(dispatcher, scheduled);

	/* a pipeline dropped meanwhile has no row to record against */
	if (BeginWorkerTransaction() && ReadPipeline(scheduled->name, true) != NULL)
		RecordFailedPipelineRun(scheduled->name, scheduled->run, edata->message,
								edata->sqlerrcode, scheduled->retryAt);
	CommitWorkerTransaction();

	EndRun(scheduled);
}


/*
 * ShouldLogFailure says whether a failure goes to the server log: the
 * first of a series, one whose message differs from the last logged, and
 * then one every FAILURE_LOG_INTERVAL_MS while the same failure persists.
 * Every failure is recorded in incremental.pipeline_runs regardless.
 */
static bool
ShouldLogFailure(ScheduledPipeline *scheduled, ErrorData *edata)
{
	TimestampTz now = GetCurrentTimestamp();
	const char *message = edata->message != NULL ? edata->message : "";

	if (scheduled->lastLoggedError != NULL &&
		strcmp(scheduled->lastLoggedError, message) == 0 &&
		!TimestampDifferenceExceeds(scheduled->lastLoggedAt, now, FAILURE_LOG_INTERVAL_MS))
		return false;

	if (scheduled->lastLoggedError != NULL)
		pfree(scheduled->lastLoggedError);
	scheduled->lastLoggedError = MemoryContextStrdup(GetMemoryChunkContext(scheduled), message);
	scheduled->lastLoggedAt = now;
	return true;
}


/* EndRun drops the run in progress, if any */
static void
EndRun(ScheduledPipeline *scheduled)
{
	if (scheduled->runContext != NULL)
		MemoryContextDelete(scheduled->runContext);
	scheduled->runContext = NULL;
	scheduled->run = NULL;
}


static void
ScheduledRunErrorContext(void *arg)
{
	errcontext("scheduled run of pipeline \"%s\"", (const char *) arg);
}



/*
 * TrimRunHistoryIfDue keeps incremental.pipeline_runs within
 * incremental.history_retention and incremental.history_max_runs, at most
 * once a minute, in a transaction of its own.
 */
void
TrimRunHistoryIfDue(PipelineDispatcher *dispatcher)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!TimestampDifferenceExceeds(dispatcher->lastHistoryTrim, now, HISTORY_TRIM_INTERVAL_MS))
		return;
	dispatcher->lastHistoryTrim = now;

	if (BeginWorkerTransaction())
	{
		uint64		removed = TrimPipelineRuns(HistoryRetentionSeconds,
											   HistoryMaxRunsPerPipeline);

		ereport(DEBUG1, (errmsg("removed " UINT64_FORMAT " old pipeline runs", removed)));
	}
	CommitWorkerTransaction();
}


/*
 * TimeUntilNextDue is how long the worker may sleep, in ms: not at all
 * while a pipeline has a backlog, never longer than incremental.naptime.
 */
long
TimeUntilNextDue(PipelineDispatcher *dispatcher)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wakeAt = TimestampTzPlusMilliseconds(now, SchedulerNaptimeMs);
	ListCell   *cell;

	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (scheduled->paused || !scheduled->scheduleValid)
			continue;
		if (scheduled->run != NULL)
			return 0;
		wakeAt = Min(wakeAt, Max(scheduled->nextRunAt, scheduled->retryAt));
	}

	return TimestampDifferenceMilliseconds(now, wakeAt);
}
