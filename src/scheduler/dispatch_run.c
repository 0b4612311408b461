/*-------------------------------------------------------------------------
 *
 * dispatch_run.c
 *	  One round of a worker: a look for work at the due pipelines, then one
 *	  batch of each that may have some, and what follows a batch.
 *
 * Most checks find nothing new, so a round first asks the due pipelines,
 * in read-only transactions of at most PROBE_GROUP_SIZE pipelines each,
 * whether they may have anything to do (pipeline_probe.h); those that
 * certainly have not are done until their next scheduled time.  A thousand
 * idle pipelines on a one-second schedule thus cost a few transactions a
 * second, not a thousand, and the locks the looks take stay few.
 *
 * A run is a sequence of batches (src/pipelines/pipeline_run.h).  Each
 * round gives every due pipeline one batch, in its own transaction,
 * committed before the next pipeline's turn; a pipeline with a backlog
 * stays due, so the worker goes round again at once.  One pipeline's
 * backlog thus never starves the others, and every batch is committed.
 *
 * A batch that fails is caught, logged and recorded (in a new transaction,
 * since the batch's is lost) and the pipeline is retried with exponential
 * backoff; the other pipelines go on.  The run ends and the backoff holds
 * even when recording the failure fails too.  A batch that finds the
 * pipeline locked by another session (a manual execute_pipeline) is
 * skipped, not queued, and one whose source is busy (locked by DDL, or
 * with writers still at work after a short wait) is postponed to the
 * pipeline's next time: one long transaction never holds up the worker.
 * Every run that did work is recorded in incremental.pipeline_runs,
 * however it ends.
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

#include "pipelines/pipeline_access.h"
#include "scheduler/dispatch_internal.h"
#include "scheduler/guc.h"
#include "scheduler/login_settings.h"
#include "scheduler/process_common.h"
#include "scheduler/worker_xact.h"

/* Backoff after consecutive failures of a pipeline */
#define FAILURE_BACKOFF_BASE_MS 1000
#define FAILURE_BACKOFF_MAX_MS (300 * 1000)

/* Say in the log when writers of a source hold a pipeline up this long */
#define SOURCE_BUSY_LOG_AFTER_MS (60 * 1000)

/* While a pipeline keeps failing the same way, log it this rarely */
#define FAILURE_LOG_INTERVAL_MS (10 * 60 * 1000)

/*
 * The most pipelines looked at in one transaction: a look at a sequence
 * pipeline locks the sequence until the transaction ends, and thousands of
 * such locks would fill the shared lock table.
 */
#define PROBE_GROUP_SIZE 64

static bool NeedsProbe(ScheduledPipeline *scheduled);
static bool ProbeForWork(PipelineDispatcher *dispatcher, List *candidates,
						 TimestampTz now, List **withWork);
/* Which errors CopyErrorAndAbort sends to the server log */
typedef enum ErrorLogging
{
	LOG_NEVER,					/* the caller says what happened */
	LOG_ALWAYS,
	LOG_UNLESS_REPEATED			/* a pipeline's failure: ShouldLogFailure */
} ErrorLogging;

static ErrorData *CopyErrorAndAbort(MemoryContext context, ErrorLogging logging,
									ScheduledPipeline *scheduled);
static bool RunOneBatch(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static int	CompareChainDepth(const ListCell *a, const ListCell *b);
static List *AddTriggeredChildren(PipelineDispatcher *dispatcher, ScheduledPipeline *parent,
								  List *due);
static void TriggerChildren(PipelineDispatcher *dispatcher, ScheduledPipeline *parent);
static void FinishRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
					  PipelineBatchOutcome outcome);
static void PostponeRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
static bool ShouldLogFailure(ScheduledPipeline *scheduled, ErrorData *edata);
static void RecordFailure(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						  ErrorData *edata);
static void ScheduledRunErrorContext(void *arg);


/*
 * RunDuePipelines runs one round: one batch of every due pipeline that
 * may have work.  Returns false when the round stopped because the
 * extension disappeared or the worker must log in again (RunOneBatch).
 */
bool
RunDuePipelines(PipelineDispatcher *dispatcher)
{
	TimestampTz now = GetCurrentTimestamp();
	List	   *due = NIL;
	List	   *toProbe = NIL;
	ListCell   *cell;
	bool		mayGoOn = true;

	dispatcher->round++;

	/* the list may change while batches run; work on copies */
	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (!IsDue(scheduled, now) || HeldBackByParents(dispatcher, scheduled))
			continue;
		if (NeedsProbe(scheduled))
			toProbe = lappend(toProbe, scheduled);
		else
			due = lappend(due, scheduled);
	}

	if (toProbe != NIL)
	{
		List	   *withWork = NIL;

		mayGoOn = ProbeForWork(dispatcher, toProbe, now, &withWork);
		due = list_concat(due, withWork);
	}

	/*
	 * Parents before their children; a child whose parent commits progress
	 * in this round joins it, after that parent, once per round.
	 */
	list_sort(due, CompareChainDepth);
	while (due != NIL && mayGoOn)
	{
		ScheduledPipeline *scheduled = linitial(due);

		due = list_delete_first(due);
		if (scheduled->ranInRound == dispatcher->round)
			continue;
		scheduled->ranInRound = dispatcher->round;

		CHECK_FOR_INTERRUPTS();
		mayGoOn = RunOneBatch(dispatcher, scheduled);
		due = AddTriggeredChildren(dispatcher, scheduled, due);
	}
	list_free(due);

	return mayGoOn;
}


static int
CompareChainDepth(const ListCell *a, const ListCell *b)
{
	ScheduledPipeline *left = lfirst(a);
	ScheduledPipeline *right = lfirst(b);

	if (left->depth != right->depth)
		return left->depth < right->depth ? -1 : 1;
	return strcmp(left->name, right->name);
}


/*
 * The children that a parent's batch triggered (RunOneBatch sets
 * triggered), inserted into the round's list by depth, unless they ran in
 * this round already or are held back by another parent.
 */
static List *
AddTriggeredChildren(PipelineDispatcher *dispatcher, ScheduledPipeline *parent, List *due)
{
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *cell;
	bool		added = false;

	foreach(cell, parent->children)
	{
		ScheduledPipeline *child = FindScheduledPipeline(dispatcher, lfirst(cell));

		if (child == NULL || !child->triggered || child->ranInRound == dispatcher->round ||
			list_member_ptr(due, child) || !IsDue(child, now) ||
			HeldBackByParents(dispatcher, child))
			continue;
		due = lappend(due, child);
		added = true;
	}
	if (added)
		list_sort(due, CompareChainDepth);
	return due;
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
 * read-only transactions of PROBE_GROUP_SIZE pipelines at most, and puts
 * those that may into *withWork.  Those that certainly have not are done,
 * as if they had run at 'now' and found nothing; the shared start time
 * keeps their next runs together, so that the worker wakes once for all of
 * them.  A look that fails (the pipeline was dropped a moment ago, say)
 * sends its pipeline to a run, which will report the problem properly,
 * and the others are asked in a new transaction.  Returns false when the
 * extension is gone.
 */
static bool
ProbeForWork(PipelineDispatcher *dispatcher, List *candidates, TimestampTz now,
			 List **withWork)
{
	MemoryContext loopContext = CurrentMemoryContext;
	volatile int position = 0;
	volatile int groupEnd = 0;
	volatile bool extensionPresent = true;

	while (position < list_length(candidates) && extensionPresent)
	{
		PG_TRY();
		{
			groupEnd = Min(position + PROBE_GROUP_SIZE, list_length(candidates));

			if (!BeginWorkerTransaction())
				extensionPresent = false;

			for (; extensionPresent && position < groupEnd; position++)
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
			ErrorData  *edata = CopyErrorAndAbort(loopContext, LOG_NEVER, NULL);

			/* the commit may fail too, after every look of the group was taken */
			if (position < groupEnd)
			{
				ScheduledPipeline *scheduled = list_nth(candidates, position);

				ereport(DEBUG1,
						(errmsg_internal("pipeline \"%s\" will run to find out whether it has new data: %s",
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
 * error into 'context', logs it as asked (a pipeline's repeated failure
 * only when ShouldLogFailure lets it through), and rolls the transaction
 * back.
 */
static ErrorData *
CopyErrorAndAbort(MemoryContext context, ErrorLogging logging, ScheduledPipeline *scheduled)
{
	ErrorData  *edata;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	if (logging == LOG_ALWAYS ||
		(logging == LOG_UNLESS_REPEATED && ShouldLogFailure(scheduled, edata)))
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
 * nothing, when the extension is gone, or when the settings stored for the
 * worker's login changed, so that it must log in again before a batch runs
 * (login_settings.c).
 */
static bool
RunOneBatch(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	MemoryContext loopContext = CurrentMemoryContext;
	volatile bool mayGoOn = true;
	volatile bool didWork = false;

	if (scheduled->run == NULL)
	{
		scheduled->triggered = false;
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
		int64		itemsBefore;

		errorContext.callback = ScheduledRunErrorContext;
		errorContext.arg = scheduled->name;
		errorContext.previous = error_context_stack;
		error_context_stack = &errorContext;

		if (!BeginWorkerTransaction())
		{
			mayGoOn = false;
			EndRun(scheduled);
		}
		else if (LoginSettingsChanged(false))
		{
			/* the worker logs in again; the run goes on in the next one */
			mayGoOn = false;
			EndRun(scheduled);
		}
		else
		{
			if (scheduled->run == NULL)
				scheduled->run = BeginPipelineRun(scheduled->name,
												  PIPELINE_RUN_BY_SCHEDULER,
												  true, scheduled->runContext);

			itemsBefore = PipelineRunItemsProcessed(scheduled->run);
			pgstat_report_activity(STATE_RUNNING, PipelineRunCommand(scheduled->run));
			outcome = ExecutePipelineBatch(scheduled->run);
			didWork = PipelineRunItemsProcessed(scheduled->run) > itemsBefore;
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
					/* dropped (or re-created) meanwhile; the next refresh tells */
					EndRun(scheduled);
					scheduled->paused = true;
					break;
			}
		}

		CommitWorkerTransaction();
		error_context_stack = errorContext.previous;

		/* committed: what runs after it may run now */
		if (didWork)
			TriggerChildren(dispatcher, scheduled);
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorAndAbort(loopContext, LOG_UNLESS_REPEATED, scheduled);

		RecordFailure(dispatcher, scheduled, edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(loopContext);
	return mayGoOn;
}


/* Marks the pipelines that run after this one as due */
static void
TriggerChildren(PipelineDispatcher *dispatcher, ScheduledPipeline *parent)
{
	ListCell   *cell;

	foreach(cell, parent->children)
	{
		ScheduledPipeline *child = FindScheduledPipeline(dispatcher, lfirst(cell));

		if (child != NULL)
			child->triggered = true;
	}
}


/*
 * FinishRun ends a run that did not fail, in the transaction of its last
 * batch.  A run that processed something was recorded in
 * incremental.pipeline_runs by its batches; one that found nothing new, or
 * was skipped, writes nothing at all, unless it ends a series of failures
 * or is an @reboot run, whose record says it ran since the server started.
 */
static void
FinishRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
		  PipelineBatchOutcome outcome)
{
	if (outcome != PIPELINE_BATCH_LOCKED &&
		(scheduled->consecutiveFailures > 0 || scheduled->schedule.atStartup))
		RecordSucceededPipelineRun(scheduled->run);

	if (scheduled->consecutiveFailures > 0 && outcome != PIPELINE_BATCH_LOCKED)
		ereport(LOG,
				(errmsg("pipeline \"%s\" ran again without error after %d failures",
						scheduled->name, scheduled->consecutiveFailures)));

	scheduled->lastRunStart = scheduled->runStart;
	scheduled->lastRunDidWork = PipelineRunItemsProcessed(scheduled->run) > 0;
	if (outcome != PIPELINE_BATCH_LOCKED)
	{
		scheduled->consecutiveFailures = 0;
		scheduled->retryAt = 0;
		if (scheduled->lastLoggedError != NULL)
			pfree(scheduled->lastLoggedError);
		scheduled->lastLoggedError = NULL;
	}
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
				(errmsg("pipeline \"%s\" has waited %ld seconds for transactions that may still add rows to its source",
						scheduled->name,
						(long) ((now - scheduled->sourceBusySince) / USECS_PER_SEC)),
				 errdetail("The pipeline can only process a range once every transaction that may still add rows to it has ended: those that wrote to the source, and for a time interval pipeline every transaction that began before the interval ended."),
				 errhint("Look in pg_stat_activity for long transactions, or sessions idle in transaction, and for DDL on the source waiting behind them.")));
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
 * its own.  Called outside any transaction.  The backoff is decided, and
 * the run ended, whether or not the record can be written (a lock or
 * statement timeout, say): a failure must never make its pipeline due at
 * once.
 */
static void
RecordFailure(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
			  ErrorData *edata)
{
	MemoryContext loopContext = CurrentMemoryContext;
	TimestampTz now = GetCurrentTimestamp();
	long		backoffMs;

	scheduled->lastRunStart = scheduled->runStart;
	scheduled->lastRunDidWork = false;
	scheduled->consecutiveFailures++;
	backoffMs = ExponentialBackoffMs(scheduled->consecutiveFailures,
									 FAILURE_BACKOFF_BASE_MS, FAILURE_BACKOFF_MAX_MS);
	scheduled->retryAt = TimestampTzPlusMilliseconds(now, backoffMs);
	ComputeNextRun(dispatcher, scheduled);

	PG_TRY();
	{
		if (BeginWorkerTransaction())
		{
			RecordFailedPipelineRun(scheduled->name, scheduled->createdAt, scheduled->run,
									edata->message, edata->sqlerrcode, scheduled->retryAt);
			(void) PauseAfterConsecutiveFailures(scheduled->name, scheduled->createdAt,
												 scheduled->consecutiveFailures,
												 MaxConsecutiveFailures);
		}
		CommitWorkerTransaction();
	}
	PG_CATCH();
	{
		FreeErrorData(CopyErrorAndAbort(loopContext, LOG_ALWAYS, NULL));
	}
	PG_END_TRY();

	MemoryContextSwitchTo(loopContext);
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


static void
ScheduledRunErrorContext(void *arg)
{
	errcontext("scheduled run of pipeline \"%s\"", (const char *) arg);
}
