/*-------------------------------------------------------------------------
 *
 * scheduler_status.c
 *	  Whether the built-in scheduler runs pipelines in this server: the
 *	  library must have been preloaded (only then do the launcher and the
 *	  workers exist), with incremental.enabled on and at least one worker
 *	  allowed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "scheduler/guc.h"
#include "scheduler/scheduler_status.h"

PG_FUNCTION_INFO_V1(incremental_scheduler_active);

/* Whether the library was loaded through shared_preload_libraries */
static bool libraryPreloaded = false;


void
SetSchedulerPreloaded(bool preloaded)
{
	libraryPreloaded = preloaded;
}


bool
SchedulerPreloaded(void)
{
	return libraryPreloaded;
}


bool
SchedulerRunsPipelines(void)
{
	return libraryPreloaded && SchedulerEnabled && SchedulerMaxWorkers > 0;
}


/* incremental._scheduler_active(), for incremental.pipeline_stats */
Datum
incremental_scheduler_active(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SchedulerRunsPipelines());
}
