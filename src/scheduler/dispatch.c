/*-------------------------------------------------------------------------
 *
 * dispatch.c
 *	  Deciding which pipelines of a database are due, and running one
 *	  batch of each per round.
 *
 * The worker re-reads incremental.pipelines when a committed transaction
 * changed it (commit_wakeup.c counts those in shared memory) and, in case
 * a change escaped that, every PIPELINE_REREAD_INTERVAL_MS.  What the
 * catalog does not say lives here, one ScheduledPipeline per pipeline,
 * kept in name order so that a re-read is a merge: the parsed schedule,
 * when the last run started, when the next is due, failures and the
 * backoff they earned, and the run in progress.
 *
 * Most checks find nothing new, so a round first asks the due pipelines,
 * all in one read-only transaction, whether they may have anything to do
 * (pipeline_probe.h); those that certainly have not are done until their
 * next scheduled time.  A thousand idle pipelines on a one-second schedule
 * thus cost one transaction a second, not a thousand.
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
 * queued, and one whose source is busy (locked by DDL, or with writers
 * still at work after a short wait) is postponed to the pipeline's next
 * time: one long transaction never holds up the whole database.  Runs missed while the worker was away coalesce into one: a
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
#include "pipelines/pipeline_probe.h"
#include "pipelines/pipeline_run.h"
#include "scheduler/dispatch.h"
#include "scheduler/guc.h"
#include "scheduler/process_common.h"
#include "scheduler/schedule.h"
#include "scheduler/shmem.h"
#include "scheduler/worker_xact.h"

/* Backoff after consecutive failures of a pipeline */
#define FAILURE_BACKOFF_BASE_MS 1000
#define FAILURE_BACKOFF_MAX_MS (300 * 1000)

/* Re-read the pipelines at least this often, changed or not */
#define PIPELINE_REREAD_INTERVAL_MS (5 * 1000)

/* How often the worker trims incremental.pipeline_runs */
#define HISTORY_TRIM_INTERVAL_MS (60 * 1000)

/* Say in the log when writers of a source hold a pipeline up this long */
#define SOURCE_BUSY_LOG_AFTER_MS (60 * 1000)

/* While a pipeline keeps failing the same way, log it this rarely */
#define FAILURE_LOG_INTERVAL_MS (10 * 60 * 1000)

typedef struct ScheduledPipeline
{
	char	   *name;
	PipelineType type;
	char	   *scheduleText;	/* as last read; NULL: manual only */
	Schedule	schedule;
	bool		scheduleValid;	/* false: manual only, or unparsable */
	bool		paused;
	PipelineProbe probe;		/* what the last look for work saw */
	bool		lastRunDidWork; /* so the next one probably will too */

	TimestampTz lastRunStart;	/* 0: never run by the scheduler */
	TimestampTz nextRunAt;		/* DT_NOEND: never */
	int32		consecutiveFailures;
	TimestampTz retryAt;		/* 0: no failure to back off from */
	char	   *lastLoggedError;	/* message of the failure last logged */
	TimestampTz lastLoggedAt;
	TimestampTz sourceBusySince;	/* 0: the last batch was not held up */
	TimestampTz sourceBusyLoggedAt;

	/* the run in progress, between its batches */
	PipelineRun *run;
	MemoryContext runContext;
	TimestampTz runStart;
} ScheduledPipeline;

struct PipelineDispatcher
{
	MemoryContext context;		/* lives as long as the worker */
	List	   *pipelines;		/* ScheduledPipeline *, by name */
	pg_tz	   *timezone;		/* zone the cron times were computed in */
	bool		firstRefresh;	/* @reboot schedules fire on this one */
	uint64		seenChanges;	/* PipelineChangeCount() at the last read */
	TimestampTz lastRefresh;	/* when the pipelines were last read */
	TimestampTz lastHistoryTrim;	/* when pipeline_runs was last trimmed */
};

static int	ComparePipelineNames(const ListCell *a, const ListCell *b);
static ScheduledPipeline *AddScheduledPipeline(PipelineDispatcher *dispatcher,
											   const Pipeline *pipeline);
static void UpdateScheduledPipeline(PipelineDispatcher *dispatcher,
									ScheduledPipeline *scheduled,
									const Pipeline *pipeline, bool reschedule);
static void SetSchedule(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						const char *scheduleText);
static void ComputeNextRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static void ForgetScheduledPipeline(PipelineDispatcher *dispatcher,
									ScheduledPipeline *scheduled);
static bool IsDue(ScheduledPipeline *scheduled, TimestampTz now);
static bool NeedsProbe(ScheduledPipeline *scheduled);
static bool ProbeForWork(PipelineDispatcher *dispatcher, List *candidates,
						 TimestampTz now, List **withWork);
static ErrorData *CopyErrorAndAbort(MemoryContext context, ScheduledPipeline *logFor);
static bool RunOneBatch(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static void FinishRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
					  PipelineBatchOutcome outcome);
static void PostponeRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
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
 * PipelinesNeedRefresh says whether the worker should re-read the
 * pipelines before its next round.
 */
bool
PipelinesNeedRefresh(PipelineDispatcher *dispatcher)
{
	return dispatcher->firstRefresh ||
		PipelineChangeCount() != dispatcher->seenChanges ||
		TimestampDifferenceExceeds(dispatcher->lastRefresh, GetCurrentTimestamp(),
								   PIPELINE_REREAD_INTERVAL_MS);
}


/*
 * RefreshPipelines merges the catalog's pipelines into the dispatcher's
 * state: both lists are in name order, so one pass finds the new, the
 * changed and the dropped.  Runs in the caller's transaction.
 */
void
RefreshPipelines(PipelineDispatcher *dispatcher)
{
	uint64		changes = PipelineChangeCount();
	List	   *pipelines = ReadAllPipelines();
	bool		timezoneChanged = dispatcher->timezone != SchedulerTimezone();
	List	   *merged = NIL;
	ListCell   *oldCell;
	ListCell   *newCell;
	MemoryContext oldContext;

	dispatcher->timezone = SchedulerTimezone();
	list_sort(pipelines, ComparePipelineNames);

	oldCell = list_head(dispatcher->pipelines);
	newCell = list_head(pipelines);
	while (oldCell != NULL || newCell != NULL)
	{
		ScheduledPipeline *scheduled = oldCell ? lfirst(oldCell) : NULL;
		Pipeline   *pipeline = newCell ? lfirst(newCell) : NULL;
		int			order;

		if (scheduled == NULL)
			order = 1;
		else if (pipeline == NULL)
			order = -1;
		else
			order = strcmp(scheduled->name, pipeline->name);

		if (order < 0)
		{
			/* dropped */
			ForgetScheduledPipeline(dispatcher, scheduled);
			oldCell = lnext(dispatcher->pipelines, oldCell);
			continue;
		}

		if (order > 0)
			scheduled = AddScheduledPipeline(dispatcher, pipeline);
		else
			UpdateScheduledPipeline(dispatcher, scheduled, pipeline, timezoneChanged);

		/* it may have been reset, or dropped and created again */
		scheduled->probe.valid = false;

		oldContext = MemoryContextSwitchTo(dispatcher->context);
		merged = lappend(merged, scheduled);
		MemoryContextSwitchTo(oldContext);

		if (order == 0)
			oldCell = lnext(dispatcher->pipelines, oldCell);
		newCell = lnext(pipelines, newCell);
	}

	list_free(dispatcher->pipelines);
	dispatcher->pipelines = merged;
	dispatcher->firstRefresh = false;
	dispatcher->seenChanges = changes;
	dispatcher->lastRefresh = GetCurrentTimestamp();
}


/* Pipeline names sort as the catalog's COLLATE "C" key does */
static int
ComparePipelineNames(const ListCell *a, const ListCell *b)
{
	return strcmp(((Pipeline *) lfirst(a))->name, ((Pipeline *) lfirst(b))->name);
}


/*
 * UpdateScheduledPipeline takes in what may have changed in the catalog;
 * with reschedule, the next run is computed again even if the schedule is
 * the same (the time zone changed, or the pipeline is new).
 */
static void
UpdateScheduledPipeline(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						const Pipeline *pipeline, bool reschedule)
{
	if (reschedule ||
		(pipeline->schedule == NULL) != (scheduled->scheduleText == NULL) ||
		(pipeline->schedule != NULL &&
		 strcmp(pipeline->schedule, scheduled->scheduleText) != 0))
		SetSchedule(dispatcher, scheduled, pipeline->schedule);

	/* dropped and created again as another kind, perhaps */
	scheduled->type = pipeline->type;

	/* a pipeline that pg_cron runs is left alone, like a paused one */
	scheduled->paused = pipeline->paused ||
		pipeline->scheduledBy != PIPELINE_SCHEDULER_INTERNAL;

	/* a pipeline paused in the middle of a backlog stops here */
	if (scheduled->paused && scheduled->run != NULL)
		EndRun(scheduled);
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

	scheduled = MemoryContextAllocZero(dispatcher->context, sizeof(ScheduledPipeline));
	scheduled->name = MemoryContextStrdup(dispatcher->context, pipeline->name);

	if (ReadPipelineRunSummary(pipeline->name, &summary))
	{
		scheduled->lastRunStart = summary.lastRunStart;
		scheduled->consecutiveFailures = summary.consecutiveFailures;
		scheduled->retryAt = summary.nextRetryAt;
	}

	UpdateScheduledPipeline(dispatcher, scheduled, pipeline, true);
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
 * RunDuePipelines runs one round: one batch of every due pipeline that
 * may have work.  Returns false when the extension disappeared meanwhile.
 */
bool
RunDuePipelines(PipelineDispatcher *dispatcher)
{
	TimestampTz now = GetCurrentTimestamp();
	List	   *due = NIL;
	List	   *toProbe = NIL;
	ListCell   *cell;
	bool		extensionPresent = true;

	/* the list may change while batches run; work on copies */
	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (!IsDue(scheduled, now))
			continue;
		if (NeedsProbe(scheduled))
			toProbe = lappend(toProbe, scheduled);
		else
			due = lappend(due, scheduled);
	}

	if (toProbe != NIL)
	{
		List	   *withWork = NIL;

		extensionPresent = ProbeForWork(dispatcher, toProbe, now, &withWork);
		due = list_concat(due, withWork);
		list_free(withWork);
		list_free(toProbe);
	}

	foreach(cell, due)
	{
		if (!extensionPresent)
			break;

		CHECK_FOR_INTERRUPTS();
		extensionPresent = RunOneBatch(dispatcher, lfirst(cell));
	}

	list_free(due);
	return extensionPresent;
}


/*
 * NeedsProbe: a pipeline goes straight to its run when it is in the middle
 * of one (a backlog), when it has been failing (its recovery is recorded
 * by a run), when only a run can tell (a file list), and when its last run
 * found work: new data keeps coming, and a run that finds none costs no
 * more than the look.
 */
static bool
NeedsProbe(ScheduledPipeline *scheduled)
{
	return scheduled->run == NULL &&
		scheduled->consecutiveFailures == 0 &&
		!scheduled->lastRunDidWork &&
		scheduled->type != PIPELINE_TYPE_FILE_LIST;
}


/*
 * ProbeForWork asks each candidate whether it may have anything new, in
 * one read-only transaction, and puts those that may into *withWork.
 * Those that certainly have not are done, as if they had run at 'now' and
 * found nothing; the shared start time keeps their next runs together, so
 * that the worker wakes once for all of them.  A look that fails (the
 * pipeline was dropped a moment ago, say) sends its pipeline to a run,
 * which will report the problem properly, and the others are asked in a
 * new transaction.  Returns false when the extension is gone.
 */
static bool
ProbeForWork(PipelineDispatcher *dispatcher, List *candidates, TimestampTz now,
			 List **withWork)
{
	MemoryContext loopContext = CurrentMemoryContext;
	volatile int position = 0;
	volatile bool extensionPresent = true;

	while (position < list_length(candidates) && extensionPresent)
	{
		PG_TRY();
		{
			if (!BeginWorkerTransaction())
				extensionPresent = false;

			for (; extensionPresent && position < list_length(candidates); position++)
			{
				ScheduledPipeline *scheduled = list_nth(candidates, position);
				MemoryContext oldContext;

				CHECK_FOR_INTERRUPTS();
				if (!PipelineMayHaveWork(scheduled->name, scheduled->type, now,
										 &scheduled->probe))
				{
					scheduled->lastRunStart = now;
					ComputeNextRun(dispatcher, scheduled);
					continue;
				}

				oldContext = MemoryContextSwitchTo(loopContext);
				*withWork = lappend(*withWork, scheduled);
				MemoryContextSwitchTo(oldContext);
			}

			CommitWorkerTransaction();
		}
		PG_CATCH();
		{
			ErrorData  *edata = CopyErrorAndAbort(loopContext, NULL);

			/* the commit may fail too, after every look was taken */
			if (position < list_length(candidates))
			{
				ScheduledPipeline *scheduled = list_nth(candidates, position);

				ereport(DEBUG1,
						(errmsg("pipeline \"%s\" will run to find out whether it has new data: %s",
								scheduled->name, edata->message)));
				*withWork = lappend(*withWork, scheduled);
				position++;
			}
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}

	MemoryContextSwitchTo(loopContext);
	return extensionPresent;
}


/*
 * CopyErrorAndAbort recovers from an error caught outside any handler of
 * its own, the way autovacuum does for a table that failed: it copies the
 * error into 'context', logs it when 'logFor' is a pipeline whose failure
 * ShouldLogFailure lets through, and rolls the transaction back.
 */
static ErrorData *
CopyErrorAndAbort(MemoryContext context, ScheduledPipeline *logFor)
{
	ErrorData  *edata;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	if (logFor != NULL && ShouldLogFailure(logFor, edata))
		EmitErrorReport();
	AbortCurrentTransaction();
	FlushErrorState();
	disable_all_timeouts(false);
	QueryCancelPending = false;
	RESUME_INTERRUPTS();

	return edata;
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
		scheduled->probe.valid = false;
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
			if (outcome != PIPELINE_BATCH_SOURCE_BUSY)
				scheduled->sourceBusySince = 0;

			switch (outcome)
			{
				case PIPELINE_BATCH_MORE:
					break;
				case PIPELINE_BATCH_DONE:
				case PIPELINE_BATCH_NO_WORK:
				case PIPELINE_BATCH_LOCKED:
					FinishRun(dispatcher, scheduled, outcome);
					break;
				case PIPELINE_BATCH_SOURCE_BUSY:
					PostponeRun(dispatcher, scheduled);
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
		ErrorData  *edata = CopyErrorAndAbort(loopContext, scheduled);

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
	scheduled->lastRunDidWork = PipelineRunItemsProcessed(scheduled->run) > 0;
	scheduled->consecutiveFailures = 0;
	scheduled->retryAt = 0;
	if (scheduled->lastLoggedError != NULL)
		pfree(scheduled->lastLoggedError);
	scheduled->lastLoggedError = NULL;
	ComputeNextRun(dispatcher, scheduled);
	EndRun(scheduled);
}


/*
 * PostponeRun ends a run whose batch found its source busy (pipeline_run.h):
 * locked by DDL, or with writers still at work.  Nothing was done, so it is
 * tried again at the pipeline's next time, and its failures, if any, still
 * count.  A pipeline held up for long says so in the log, every
 * FAILURE_LOG_INTERVAL_MS: the usual cause is a session idle in a
 * transaction that wrote to the source (or DDL queued behind one).
 */
static void
PostponeRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	TimestampTz now = GetCurrentTimestamp();

	if (scheduled->sourceBusySince == 0)
	{
		scheduled->sourceBusySince = now;
		scheduled->sourceBusyLoggedAt = 0;
	}
	else if (TimestampDifferenceExceeds(scheduled->sourceBusySince, now,
										SOURCE_BUSY_LOG_AFTER_MS) &&
			 (scheduled->sourceBusyLoggedAt == 0 ||
			  TimestampDifferenceExceeds(scheduled->sourceBusyLoggedAt, now,
										 FAILURE_LOG_INTERVAL_MS)))
	{
		ereport(LOG,
				(errmsg("pipeline \"%s\" has waited %ld seconds for transactions that write to or lock its source",
						scheduled->name,
						(long) ((now - scheduled->sourceBusySince) / USECS_PER_SEC)),
				 errdetail("The pipeline can only process rows once every transaction that may still add rows in its range has ended."),
				 errhint("Look in pg_stat_activity for long transactions, or sessions idle in transaction, that wrote to the pipeline's source table, and for DDL waiting behind them.")));
		scheduled->sourceBusyLoggedAt = now;
	}

	scheduled->lastRunStart = scheduled->runStart;
	scheduled->lastRunDidWork = false;
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
