/*-------------------------------------------------------------------------
 *
 * pause.c
 *	  incremental.pause_pipeline() and incremental.resume_pipeline().
 *
 * Pausing only keeps the scheduler from starting the pipeline: its
 * progress stays where it is, so after resume the next run processes
 * everything that arrived meanwhile, and nothing is lost.  A paused
 * pipeline can still be run by hand with execute_pipeline.
 *
 * Both take the pipeline's lock, so when pause_pipeline returns no batch
 * of the pipeline is running, and the scheduler skips the pipeline until
 * the pause commits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_util.h"

PG_FUNCTION_INFO_V1(incremental_pause_pipeline);
PG_FUNCTION_INFO_V1(incremental_resume_pipeline);

static void SetPausedFromSql(FunctionCallInfo fcinfo, bool paused, const char *action);


Datum
incremental_pause_pipeline(PG_FUNCTION_ARGS)
{
	SetPausedFromSql(fcinfo, true, "pause");
	PG_RETURN_VOID();
}


Datum
incremental_resume_pipeline(PG_FUNCTION_ARGS)
{
	SetPausedFromSql(fcinfo, false, "resume");
	PG_RETURN_VOID();
}


/*
 * SetPausedFromSql checks the argument and the caller's rights (owner or
 * superuser) and sets the flag.  The update wakes the worker at commit
 * (the pipelines_changed trigger), so a resumed pipeline catches up at once.
 */
static void
SetPausedFromSql(FunctionCallInfo fcinfo, bool paused, const char *action)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, action);

	if (pipeline->paused != paused)
		SetPipelinePaused(pipelineName, paused);
}
