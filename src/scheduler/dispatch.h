/*-------------------------------------------------------------------------
 *
 * dispatch.h
 *	  Inside a worker: which of its role's pipelines are due, and running
 *	  one batch of each per round.
 *
 * dispatch_state.c keeps what the catalog does not say about each
 * pipeline (its parsed schedule, when it is next due, its failures and
 * the run in progress) and merges the catalog into it; dispatch_run.c runs
 * a round: the look for work, one batch per due pipeline, the failure
 * policy.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_DISPATCH_H
#define INCREMENTAL_DISPATCH_H

#include "nodes/pg_list.h"

typedef struct PipelineDispatcher PipelineDispatcher;

/* dispatch_state.c */
extern PipelineDispatcher *CreatePipelineDispatcher(Oid ownerId);
extern bool PipelinesNeedRefresh(PipelineDispatcher *dispatcher);
extern void RefreshPipelines(PipelineDispatcher *dispatcher, List *pipelines,
							 uint64 seenChanges);
extern void RefreshPipelineChains(PipelineDispatcher *dispatcher, List *dependencies);
extern int	ScheduledPipelineCount(PipelineDispatcher *dispatcher);
extern long TimeUntilNextDue(PipelineDispatcher *dispatcher);

/* dispatch_run.c; false: refresh before going on (the worker may exit) */
extern bool RunDuePipelines(PipelineDispatcher *dispatcher);

#endif							/* INCREMENTAL_DISPATCH_H */
