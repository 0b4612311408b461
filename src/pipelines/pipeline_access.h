/*-------------------------------------------------------------------------
 *
 * pipeline_access.h
 *	  Reading the arguments of the SQL functions, and checking that the
 *	  current user may act on a pipeline.
 *
 * The bottom of the pipelines layer: the SQL functions, the kinds and the
 * shared run path all use it, and it uses only the catalog and the
 * pipeline lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_ACCESS_H
#define INCREMENTAL_PIPELINE_ACCESS_H

#include "fmgr.h"

#include "catalog/pipeline_catalog.h"

/* What the current user wants to do with a pipeline, for permission errors */
typedef enum PipelineAction
{
	PIPELINE_ACTION_EXECUTE,
	PIPELINE_ACTION_RESET,
	PIPELINE_ACTION_DROP,
	PIPELINE_ACTION_PAUSE,
	PIPELINE_ACTION_RESUME,
	PIPELINE_ACTION_SKIP_FILE,
	PIPELINE_ACTION_RESET_STATS,
	PIPELINE_ACTION_MOVE_SCHEDULE,
	PIPELINE_ACTION_ALTER,
	PIPELINE_ACTION_SKIP_RANGE
} PipelineAction;

extern bool CallMayCommit(FunctionCallInfo fcinfo);
extern char *GetTextArgument(FunctionCallInfo fcinfo, int argumentNumber,
							 const char *argumentName);
extern void CheckArgumentNotNull(FunctionCallInfo fcinfo, int argumentNumber,
								 const char *argumentName);
extern void CheckPipelinePermission(const Pipeline *pipeline, PipelineAction action);
extern Pipeline *LockAndReadPipeline(const char *pipelineName, PipelineAction action);
extern void CheckOwnerMayReadSource(Oid relationId, Oid ownerId);
extern void ResetPipelineProgress(const Pipeline *pipeline);

/*
 * Pauses a pipeline (the one created at createdAt) whose runs failed
 * 'failures' times in a row when that reaches its max_consecutive_failures,
 * or defaultLimit when it has none (0: never); true when it paused it.
 */
extern bool PauseAfterConsecutiveFailures(const char *pipelineName, TimestampTz createdAt,
										  int32 failures, int32 defaultLimit);

#endif							/* INCREMENTAL_PIPELINE_ACCESS_H */
