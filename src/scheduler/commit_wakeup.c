/*-------------------------------------------------------------------------
 *
 * commit_wakeup.c
 *	  Waking the scheduler when a transaction that concerns it commits.
 *
 * A worker that woke up before the transaction that created a pipeline
 * (or the extension) committed would not see it, and a launcher would
 * conclude that the database has no extension.  So backends only note
 * during the transaction that a wakeup is wanted, and send it from a
 * transaction callback once the commit is visible to others.  An aborted
 * transaction wakes nobody.
 *
 * The core tells us about pipelines through pipeline_event_hook, and a
 * statement trigger on incremental.pipelines about any other change to
 * them (a source table's drop deletes its pipelines in SQL).  The hook
 * also warns the user who creates a scheduled pipeline while there is no
 * scheduler to run it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"

#include "pipelines/pipeline_hooks.h"
#include "scheduler/commit_wakeup.h"
#include "scheduler/guc.h"
#include "scheduler/pg_cron_mode.h"
#include "scheduler/scheduler_status.h"
#include "scheduler/shmem.h"

/* Wakeups the current transaction will send if it commits */
static bool wakeSchedulerAtCommit = false;
static bool wakeLauncherAtCommit = false;
static bool settingsChangedAtCommit = false;

/* Whoever set pipeline_event_hook before us is called too */
static pipeline_event_hook_type previousPipelineEventHook = NULL;

PG_FUNCTION_INFO_V1(incremental_pipelines_changed);

static void WakeupXactCallback(XactEvent event, void *arg);
static void HandlePipelineEvent(PipelineEvent event, const char *pipelineName,
								const char *schedule);
static void WarnIfNeverScheduled(const char *pipelineName);

void
InstallCommitWakeup(void)
{
	RegisterXactCallback(WakeupXactCallback, NULL);
	previousPipelineEventHook = pipeline_event_hook;
	pipeline_event_hook = HandlePipelineEvent;
}

/* This database's worker should look at its pipelines after commit */
void
RequestSchedulerWakeAtCommit(void)
{
	wakeSchedulerAtCommit = true;
}

/* The launcher should look at the list of databases after commit */
void
RequestLauncherWakeAtCommit(void)
{
	wakeLauncherAtCommit = true;
}

/* The stored login settings change if this transaction commits */
void
CountSettingsChangeAtCommit(void)
{
	settingsChangedAtCommit = true;
}

/*
 * incremental._pipelines_changed() is the statement trigger through which
 * any change to incremental.pipelines wakes the scheduler at commit.
 */
Datum
incremental_pipelines_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("incremental._pipelines_changed() can only be called as a trigger")));

	RequestSchedulerWakeAtCommit();
	return PointerGetDatum(NULL);
}

static void
WakeupXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (wakeSchedulerAtCommit)
				WakeDatabaseScheduler(MyDatabaseId);
			if (wakeLauncherAtCommit)
				WakeLauncher();
			if (settingsChangedAtCommit)
				CountSettingsChange();
			wakeSchedulerAtCommit = false;
			wakeLauncherAtCommit = false;
			settingsChangedAtCommit = false;
			break;

		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction is noticed by the next regular check */
			wakeSchedulerAtCommit = false;
			wakeLauncherAtCommit = false;
			settingsChangedAtCommit = false;
			break;

		default:
			break;
	}
}

static void
HandlePipelineEvent(PipelineEvent event, const char *pipelineName, const char *schedule)
{
	if (previousPipelineEventHook != NULL)
		previousPipelineEventHook(event, pipelineName, schedule);

	/* in pg_cron mode the schedule becomes a pg_cron job instead */
	if (event == PIPELINE_EVENT_CREATED && schedule != NULL &&
		!HandOverToPgCron(pipelineName, schedule))
		WarnIfNeverScheduled(pipelineName);
	else if (event == PIPELINE_EVENT_SCHEDULE_CHANGED || event == PIPELINE_EVENT_RENAMED)
		FollowScheduleChange(pipelineName);	/* a job's name is the pipeline's */

	RequestSchedulerWakeAtCommit();
}

/*
 * Without the preload there is no scheduler (pg_incremental 1.x relied on
 * pg_cron instead); say so when it matters, not at every load.
 */
static void
WarnIfNeverScheduled(const char *pipelineName)
{
	if (!SchedulerPreloaded())
		ereport(WARNING,
				(errmsg("pipeline \"%s\" will only run when executed by hand", pipelineName),
				 errdetail("pg_incremental is not in shared_preload_libraries, so its scheduler is not running."),
				 errhint("Add pg_incremental to shared_preload_libraries and restart the server, or run the pipeline with CALL incremental.execute_pipeline('%s').",
						 pipelineName)));
	else if (SchedulerMaxWorkers == 0)
		ereport(WARNING,
				(errmsg("pipeline \"%s\" will only run when executed by hand", pipelineName),
				 errdetail("incremental.max_workers is 0, so the scheduler is not running."),
				 errhint("Set incremental.max_workers to 1 or more and restart the server.")));
}
