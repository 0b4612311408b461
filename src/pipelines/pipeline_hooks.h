/*-------------------------------------------------------------------------
 *
 * pipeline_hooks.h
 *	  Hooks through which the layers above the pipelines (the scheduler,
 *	  monitoring) learn what happened to pipelines, without the pipelines
 *	  layer ever calling up.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_HOOKS_H
#define INCREMENTAL_PIPELINE_HOOKS_H

#include "catalog/pipeline_catalog.h"

typedef enum PipelineEvent
{
	PIPELINE_EVENT_CREATED,
	PIPELINE_EVENT_RESET,
	PIPELINE_EVENT_DROPPED,
	PIPELINE_EVENT_SCHEDULE_CHANGED,
	PIPELINE_EVENT_RENAMED		/* fired with the new name */
} PipelineEvent;

/*
 * Called in the transaction that creates, resets or drops a pipeline,
 * after the catalog change.  'schedule' is the pipeline's schedule (NULL
 * for manual-only pipelines).
 */
typedef void (*pipeline_event_hook_type) (PipelineEvent event,
										  const char *pipelineName,
										  const char *schedule);

extern PGDLLIMPORT pipeline_event_hook_type pipeline_event_hook;

/* Calls the hook, if set, for a pipeline the caller changed */
extern void FirePipelineEvent(PipelineEvent event, const Pipeline *pipeline);

#endif							/* INCREMENTAL_PIPELINE_HOOKS_H */
