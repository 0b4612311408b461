/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Defines the extension's settings.
 *
 * The variables behind settings that the pipelines read live in
 * src/pipelines/ (the scheduler depends on the pipelines, never the other
 * way around); this file only registers them.  The scheduler's own
 * settings live here.
 *
 * incremental.max_workers sizes shared memory, so it exists only when the
 * library is preloaded; the reloadable settings exist in every backend so
 * that SHOW and ALTER SYSTEM work everywhere.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "utils/guc.h"

#include "compat.h"
#include "pipelines/file_list.h"
#include "scheduler/guc.h"
#include "scheduler/pg_cron_mode.h"

bool		SchedulerEnabled = true;
int			SchedulerMaxWorkers = 4;
int			SchedulerNaptimeMs = 1000;
char	   *SchedulerTimezoneName = NULL;

/* The zone that the check hook found for incremental.timezone */
static pg_tz *schedulerTimezone = NULL;

int			HistoryRetentionSeconds = 7 * 24 * 3600;
int			HistoryMaxRunsPerPipeline = 100;
int			MaxConsecutiveFailures = 0;

static bool CheckSchedulerTimezone(char **newval, void **extra, GucSource source);
static void AssignSchedulerTimezone(const char *newval, void *extra);

void
DefineIncrementalSettings(void)
{
	/*
	 * It names code that pipelines run as their owner, so only a superuser
	 * may set it (also ALTER DATABASE and ALTER ROLE ... SET), and it is read
	 * only when a pipeline is created: the pipeline records the function.
	 */
	DefineCustomStringVariable("incremental.default_file_list_function",
							   "Sets the list function of file list pipelines created without one.",
							   "A set-returning function that takes a pattern and returns a "
							   "\"path text\" column, e.g. incremental.list_local_files. "
							   "A pipeline records the function when it is created.",
							   &DefaultFileListFunction,
							   "incremental.list_local_files",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("incremental.enabled",
							 "Whether the scheduler runs pipelines.",
							 "Turn off while restoring a dump, so that no pipeline "
							 "processes a partly restored table.",
							 &SchedulerEnabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("incremental.naptime",
							"Longest time a scheduler worker sleeps before checking "
							"for due pipelines again.",
							"Also the shortest interval schedule of a pipeline whose "
							"owner is not a superuser.",
							&SchedulerNaptimeMs,
							1000,
							10,
							3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("incremental.timezone",
							   "Time zone in which cron schedules are evaluated.",
							   NULL,
							   &SchedulerTimezoneName,
							   "GMT",
							   PGC_SIGHUP,
							   0,
							   CheckSchedulerTimezone,
							   AssignSchedulerTimezone,
							   NULL);

	DefineCustomIntVariable("incremental.history_retention",
							"How long incremental.pipeline_runs keeps a run.",
							"-1 keeps runs of any age; each pipeline's newest run is "
							"always kept.",
							&HistoryRetentionSeconds,
							7 * 24 * 3600,
							-1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("incremental.history_max_runs",
							"Most runs incremental.pipeline_runs keeps per pipeline.",
							NULL,
							&HistoryMaxRunsPerPipeline,
							100,
							1,
							INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("incremental.max_consecutive_failures",
							"Failed runs in a row after which the scheduler pauses a pipeline.",
							"0 never pauses; a pipeline's own max_consecutive_failures "
							"(alter_pipeline) takes precedence.",
							&MaxConsecutiveFailures,
							0,
							0,
							INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("incremental.max_workers",
								"Most scheduler workers running at once in the "
								"cluster: one per role with scheduled pipelines "
								"in each database.",
								"Each takes a slot of max_worker_processes; 0 "
								"disables the scheduler.",
								&SchedulerMaxWorkers,
								4,
								0,
								MAX_BACKENDS,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	/* Last, so that every setting above is known before typos are flagged */
	DefineCustomEnumVariable("incremental.scheduler",
							 "Which scheduler runs the schedules of pipelines created from now on.",
							 "'internal' is the extension's own workers; 'pg_cron' creates a "
							 "pg_cron job named pipeline:<name>, as pg_incremental 1.x did.",
							 &NewPipelineScheduler,
							 0,
							 PipelineSchedulerOptions,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("incremental");
}

/*
 * The zone for cron schedules.  The GUC machinery always assigns a value
 * before anyone can ask, but fall back to GMT rather than crash if not.
 */
pg_tz *
SchedulerTimezone(void)
{
	if (schedulerTimezone == NULL)
		schedulerTimezone = pg_tzset("GMT");
	return schedulerTimezone;
}

/*
 * Accepts the names the TimeZone setting accepts.  The zone is loaded here
 * so that a bad name is refused at reload instead of breaking schedules.
 */
static bool
CheckSchedulerTimezone(char **newval, void **extra, GucSource source)
{
	pg_tz	   *zone;
	pg_tz	  **result;

	if (*newval == NULL)
		return false;

	zone = pg_tzset(*newval);
	if (zone == NULL)
	{
		GUC_check_errmsg("time zone \"%s\" is not recognized", *newval);
		GUC_check_errhint("Use a name from pg_timezone_names, such as \"GMT\" or \"Europe/Amsterdam\".");
		return false;
	}

	/* as for TimeZone, and as schedule_next_run() refuses them */
	if (!pg_tz_acceptable(zone))
	{
		GUC_check_errmsg("time zone \"%s\" appears to use leap seconds", *newval);
		GUC_check_errdetail("PostgreSQL does not support leap seconds.");
		return false;
	}

	result = (pg_tz **) malloc(sizeof(pg_tz *));
	if (result == NULL)
		return false;
	*result = zone;
	*extra = result;
	return true;
}

static void
AssignSchedulerTimezone(const char *newval, void *extra)
{
	schedulerTimezone = *((pg_tz **) extra);
}
