/*-------------------------------------------------------------------------
 *
 * dispatch_state.c
 *	  What a worker knows about its role's pipelines beyond the catalog,
 *	  and when each is next due.
 *
 * The worker re-reads incremental.pipelines when a committed transaction
 * changed it (commit_wakeup.c counts those in shared memory) and, in case
 * a change escaped that, every PIPELINE_REREAD_INTERVAL_MS.  What the
 * catalog does not say lives here, one ScheduledPipeline per pipeline of
 * the worker's role, kept in name order so that a re-read is a merge: the
 * parsed schedule, when the last run started, when the next is due,
 * failures and the backoff they earned, and the run in progress.  A
 * pipeline dropped and created again under the same name is a new
 * pipeline: its created_at tells.
 *
 * Runs missed while the worker was away coalesce into one: a pipeline is
 * due when its next run time has passed, however long ago.  An interval
 * schedule of a role that is not a superuser runs at most once per
 * incremental.naptime, so that no role can make a worker spin; @reboot
 * runs once per server start.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog/pipeline_dependency_catalog.h"
#include "scheduler/dispatch_internal.h"
#include "scheduler/guc.h"
#include "scheduler/shmem.h"

/* Re-read the pipelines at least this often, changed or not */
#define PIPELINE_REREAD_INTERVAL_MS (5 * 1000)

/* How early a pipeline on an interval schedule may run (IsDue) */
#define INTERVAL_EARLY_FRACTION 10
#define INTERVAL_EARLY_MAX_USECS USECS_PER_SEC

static int	ComparePipelineNames(const ListCell *a, const ListCell *b);
static ScheduledPipeline *AddScheduledPipeline(PipelineDispatcher *dispatcher,
											   const Pipeline *pipeline);
static void UpdateScheduledPipeline(PipelineDispatcher *dispatcher,
									ScheduledPipeline *scheduled,
									const Pipeline *pipeline, bool reschedule);
static void SetSchedule(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled,
						const char *scheduleText);
static void ForgetScheduledPipeline(ScheduledPipeline *scheduled);


PipelineDispatcher *
CreatePipelineDispatcher(Oid ownerId)
{
	MemoryContext context = AllocSetContextCreate(TopMemoryContext,
												  "pg_incremental dispatcher",
												  ALLOCSET_DEFAULT_SIZES);
	PipelineDispatcher *dispatcher = MemoryContextAllocZero(context,
															sizeof(PipelineDispatcher));

	dispatcher->context = context;
	dispatcher->ownerId = ownerId;
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
 * RefreshPipelines merges the pipelines of the dispatcher's role, out of
 * all the database's, into its state: both lists are in name order, so
 * one pass finds the new, the changed and the dropped.  Runs in the
 * caller's transaction; seenChanges is PipelineChangeCount() from before
 * the pipelines were read.
 */
void
RefreshPipelines(PipelineDispatcher *dispatcher, List *pipelines, uint64 seenChanges)
{
	bool		timezoneChanged = dispatcher->timezone != SchedulerTimezone();
	bool		wasSuperuser = dispatcher->ownerIsSuperuser;
	List	   *mine = NIL;
	List	   *merged = NIL;
	ListCell   *oldCell;
	ListCell   *newCell;
	MemoryContext oldContext;

	dispatcher->timezone = SchedulerTimezone();
	dispatcher->ownerIsSuperuser = superuser_arg(dispatcher->ownerId);

	foreach(newCell, pipelines)
	{
		Pipeline   *pipeline = lfirst(newCell);

		if (pipeline->ownerId == dispatcher->ownerId)
			mine = lappend(mine, pipeline);
	}
	list_sort(mine, ComparePipelineNames);

	oldCell = list_head(dispatcher->pipelines);
	newCell = list_head(mine);
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
			/* dropped, or no longer this role's */
			ForgetScheduledPipeline(scheduled);
			oldCell = lnext(dispatcher->pipelines, oldCell);
			continue;
		}

		if (order > 0)
			scheduled = AddScheduledPipeline(dispatcher, pipeline);
		else
		{
			oldCell = lnext(dispatcher->pipelines, oldCell);
			if (scheduled->createdAt != pipeline->createdAt)
			{
				/* dropped and created again: nothing carries over */
				ForgetScheduledPipeline(scheduled);
				scheduled = AddScheduledPipeline(dispatcher, pipeline);
			}
			else
				UpdateScheduledPipeline(dispatcher, scheduled, pipeline,
										timezoneChanged ||
										wasSuperuser != dispatcher->ownerIsSuperuser);
		}

		/* it may have been reset, or restored */
		scheduled->probe.valid = false;

		oldContext = MemoryContextSwitchTo(dispatcher->context);
		merged = lappend(merged, scheduled);
		MemoryContextSwitchTo(oldContext);

		newCell = lnext(mine, newCell);
	}

	list_free(dispatcher->pipelines);
	list_free(mine);
	dispatcher->pipelines = merged;
	dispatcher->firstRefresh = false;
	dispatcher->seenChanges = seenChanges;
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

	scheduled->type = pipeline->type;

	/* a pipeline that pg_cron runs is left alone, like a paused one */
	scheduled->paused = pipeline->paused ||
		pipeline->scheduledBy != PIPELINE_SCHEDULER_INTERNAL;

	/* a pipeline paused in the middle of a backlog stops here */
	if (scheduled->paused)
		EndRun(scheduled);
}


/*
 * AddScheduledPipeline starts tracking a pipeline, picking up where the
 * scheduler left it before a restart: the start of its last run (interval
 * schedules count from there; @reboot uses it to run once per server
 * start) and any backoff from failures.
 */
static ScheduledPipeline *
AddScheduledPipeline(PipelineDispatcher *dispatcher, const Pipeline *pipeline)
{
	ScheduledPipeline *scheduled;
	PipelineRunSummary summary;

	scheduled = MemoryContextAllocZero(dispatcher->context, sizeof(ScheduledPipeline));
	scheduled->name = MemoryContextStrdup(dispatcher->context, pipeline->name);
	scheduled->createdAt = pipeline->createdAt;

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
void
ComputeNextRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	TimestampTz after = scheduled->lastRunStart;
	Schedule	effective;

	scheduled->earlyUsecs = 0;
	if (!scheduled->scheduleValid)
	{
		scheduled->nextRunAt = DT_NOEND;
		return;
	}

	/*
	 * Once per server start, at the start, as pg_cron does: a run recorded
	 * since then means done, and a pipeline created since then waits for
	 * the next start (execute_immediately runs it at once).
	 */
	if (scheduled->schedule.atStartup)
	{
		TimestampTz since = Max(after, scheduled->createdAt);

		scheduled->nextRunAt = since < PgStartTime ? GetCurrentTimestamp() : DT_NOEND;
		return;
	}

	if (after == 0)
		after = GetCurrentTimestamp();

	effective = scheduled->schedule;
	if (effective.kind == SCHEDULE_INTERVAL && !dispatcher->ownerIsSuperuser)
		effective.intervalUsecs = Max(effective.intervalUsecs,
									  (int64) SchedulerNaptimeMs * 1000);

	scheduled->nextRunAt = ScheduleNextRun(&effective, after, dispatcher->timezone);
	if (effective.kind == SCHEDULE_INTERVAL)
	{
		scheduled->earlyUsecs = Min(effective.intervalUsecs / INTERVAL_EARLY_FRACTION,
									INTERVAL_EARLY_MAX_USECS);

		/* early or not, a non-superuser's pipeline runs once per naptime */
		if (!dispatcher->ownerIsSuperuser)
			scheduled->earlyUsecs = Min(scheduled->earlyUsecs,
										effective.intervalUsecs -
										(int64) SchedulerNaptimeMs * 1000);
	}
}


static void
ForgetScheduledPipeline(ScheduledPipeline *scheduled)
{
	EndRun(scheduled);
	if (scheduled->scheduleText != NULL)
		pfree(scheduled->scheduleText);
	if (scheduled->lastLoggedError != NULL)
		pfree(scheduled->lastLoggedError);
	list_free_deep(scheduled->parents);
	list_free_deep(scheduled->children);
	pfree(scheduled->name);
	pfree(scheduled);
}


/*
 * RefreshPipelineChains records which of the worker's pipelines run after
 * which (incremental.pipeline_dependencies), and how deep in its chain each
 * is, so that a round runs parents before their children.  A parent of
 * another role is not this worker's: it is kept by name, and holds its
 * child back (HeldBackByParents).  Runs after RefreshPipelines.
 */
void
RefreshPipelineChains(PipelineDispatcher *dispatcher, List *dependencies)
{
	MemoryContext oldContext = MemoryContextSwitchTo(dispatcher->context);
	ListCell   *cell;
	int			passes = list_length(dispatcher->pipelines);

	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		list_free_deep(scheduled->parents);
		list_free_deep(scheduled->children);
		scheduled->parents = NIL;
		scheduled->children = NIL;
		scheduled->depth = 0;
	}

	foreach(cell, dependencies)
	{
		PipelineDependency *dependency = lfirst(cell);
		ScheduledPipeline *child = FindScheduledPipeline(dispatcher, dependency->pipelineName);
		ScheduledPipeline *parent = FindScheduledPipeline(dispatcher, dependency->dependsOn);

		if (child != NULL)
			child->parents = lappend(child->parents, pstrdup(dependency->dependsOn));
		if (parent != NULL && child != NULL)
			parent->children = lappend(parent->children, pstrdup(child->name));
	}

	/* longest path from a pipeline without parents; creation refused cycles */
	for (int pass = 0; pass < passes; pass++)
	{
		bool		changed = false;

		foreach(cell, dispatcher->pipelines)
		{
			ScheduledPipeline *scheduled = lfirst(cell);
			ListCell   *parentCell;

			foreach(parentCell, scheduled->parents)
			{
				ScheduledPipeline *parent = FindScheduledPipeline(dispatcher, lfirst(parentCell));

				if (parent != NULL && parent->depth + 1 > scheduled->depth)
				{
					scheduled->depth = parent->depth + 1;
					changed = true;
				}
			}
		}
		if (!changed)
			break;
	}

	MemoryContextSwitchTo(oldContext);
}


ScheduledPipeline *
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
 * HeldBackByParents: a pipeline does not run while a pipeline it runs
 * after is paused or failing, nor while one is not this worker's (its
 * owner changed since the chain was made), which this worker cannot see.
 */
bool
HeldBackByParents(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled)
{
	ListCell   *cell;

	foreach(cell, scheduled->parents)
	{
		ScheduledPipeline *parent = FindScheduledPipeline(dispatcher, lfirst(cell));

		if (parent == NULL || parent->paused || parent->consecutiveFailures > 0)
			return true;
	}
	return false;
}


/*
 * IsDue says whether the pipeline is due now.  One on an interval schedule
 * is due a little early, by a tenth of its interval at most (earlyUsecs):
 * pipelines created one after another, each with a phase of its own, then
 * fall into step after a round, and share the worker's wakeups and the
 * transactions of its looks, instead of each waking the worker on its own.
 */
bool
IsDue(ScheduledPipeline *scheduled, TimestampTz now)
{
	if (scheduled->paused)
		return false;
	if (scheduled->run != NULL)
		return true;
	/* a parent committed progress: it runs next, schedule or not */
	if (scheduled->triggered)
		return now >= scheduled->retryAt;
	if (!scheduled->scheduleValid)
		return false;
	return now >= scheduled->nextRunAt - scheduled->earlyUsecs &&
		now >= scheduled->retryAt;
}


/* EndRun drops the run in progress, if any */
void
EndRun(ScheduledPipeline *scheduled)
{
	if (scheduled->runContext != NULL)
		MemoryContextDelete(scheduled->runContext);
	scheduled->runContext = NULL;
	scheduled->run = NULL;
}


/* How many pipelines of its role the worker may run: not paused, scheduled */
int
ScheduledPipelineCount(PipelineDispatcher *dispatcher)
{
	ListCell   *cell;
	int			count = 0;

	foreach(cell, dispatcher->pipelines)
	{
		ScheduledPipeline *scheduled = lfirst(cell);

		if (!scheduled->paused && scheduled->scheduleValid)
			count++;
	}
	return count;
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

		if (scheduled->paused || HeldBackByParents(dispatcher, scheduled))
			continue;
		if (scheduled->run != NULL)
			return 0;
		if (scheduled->triggered)
			wakeAt = Min(wakeAt, Max(now, scheduled->retryAt));
		if (!scheduled->scheduleValid)
			continue;
		wakeAt = Min(wakeAt, Max(scheduled->nextRunAt, scheduled->retryAt));
	}

	return TimestampDifferenceMilliseconds(now, wakeAt);
}
