/*-------------------------------------------------------------------------
 *
 * scheduler_state.h
 *	  The scheduler's rows in the catalog: the paused flag of a pipeline
 *	  and incremental.pipeline_run_state, what the scheduler remembers of
 *	  each pipeline's last scheduled run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SCHEDULER_STATE_H
#define INCREMENTAL_SCHEDULER_STATE_H

#include "datatype/timestamp.h"

/* pipeline_run_state.last_run_status */
typedef enum PipelineRunStatus
{
	RUN_STATUS_SUCCEEDED,		/* processed new data */
	RUN_STATUS_NOTHING_NEW,		/* found nothing to process */
	RUN_STATUS_SKIPPED,			/* another session was running it */
	RUN_STATUS_FAILED			/* raised an error; see lastError */
} PipelineRunStatus;

/* A row of incremental.pipeline_run_state */
typedef struct PipelineRunState
{
	TimestampTz lastRunStart;
	TimestampTz lastRunEnd;
	PipelineRunStatus lastStatus;
	char	   *lastError;		/* NULL unless the last run failed */
	int32		consecutiveFailures;
	TimestampTz nextRetryAt;	/* 0: no retry pending */
} PipelineRunState;

extern bool ReadPipelineRunState(const char *pipelineName, PipelineRunState *state);
extern void WritePipelineRunState(const char *pipelineName, const PipelineRunState *state);
extern void SetPipelinePaused(const char *pipelineName, bool paused);

#endif							/* INCREMENTAL_SCHEDULER_STATE_H */
