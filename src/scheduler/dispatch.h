/*-------------------------------------------------------------------------
 *
 * dispatch.h
 *	  Deciding which pipelines of a database are due, and running one
 *	  batch of each per round.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_DISPATCH_H
#define INCREMENTAL_DISPATCH_H

typedef struct PipelineDispatcher PipelineDispatcher;

extern PipelineDispatcher *CreatePipelineDispatcher(void);
extern bool PipelinesNeedRefresh(PipelineDispatcher *dispatcher);
extern void RefreshPipelines(PipelineDispatcher *dispatcher);
extern bool RunDuePipelines(PipelineDispatcher *dispatcher);
extern void TrimRunHistoryIfDue(PipelineDispatcher *dispatcher);
extern long TimeUntilNextDue(PipelineDispatcher *dispatcher);

#endif							/* INCREMENTAL_DISPATCH_H */
