/*-------------------------------------------------------------------------
 *
 * dispatch_internal.h
 *	  The dispatcher's state, shared by dispatch_state.c and dispatch_run.c
 *	  and private to them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_DISPATCH_INTERNAL_H
#define INCREMENTAL_DISPATCH_INTERNAL_H

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_probe.h"
#include "pipelines/pipeline_run.h"
#include "scheduler/dispatch.h"
#include "scheduler/schedule.h"

/* What the catalog does not say about one pipeline */
typedef struct ScheduledPipeline
{
	char	   *name;
	TimestampTz createdAt;		/* tells it from a later one of that name */
	PipelineType type;
	char	   *scheduleText;	/* as last read; NULL: manual only */
	Schedule	schedule;
	bool		scheduleValid;	/* false: manual only, or unparsable */
	bool		paused;
	PipelineProbe probe;		/* what the last look for work saw */
	bool		lastRunDidWork; /* so the next one probably will too */

	TimestampTz lastRunStart;	/* 0: never run */
	TimestampTz nextRunAt;		/* DT_NOEND: never */
	int64		earlyUsecs;		/* due this much before nextRunAt */
	int32		consecutiveFailures;
	TimestampTz retryAt;		/* 0: no failure to back off from */
	char	   *lastLoggedError;	/* message of the failure last logged */
	TimestampTz lastLoggedAt;
	TimestampTz sourceBusySince;	/* 0: the last batch was not held up */
	TimestampTz sourceBusyLoggedAt;

	/* chains: names of the pipelines it runs after, and of those after it */
	List	   *parents;
	List	   *children;
	int			depth;			/* 0, or 1 + the deepest parent's */
	bool		triggered;		/* a parent committed progress since it ran */
	uint64		ranInRound;		/* the round it last ran a batch in */

	/* the run in progress, between its batches */
	PipelineRun *run;
	MemoryContext runContext;
	TimestampTz runStart;
} ScheduledPipeline;

struct PipelineDispatcher
{
	MemoryContext context;		/* lives as long as the worker */
	Oid			ownerId;		/* the role whose pipelines it runs */
	bool		ownerIsSuperuser;	/* may schedule faster than the naptime */
	List	   *pipelines;		/* ScheduledPipeline *, by name */
	pg_tz	   *timezone;		/* zone the cron times were computed in */
	bool		firstRefresh;	/* the pipelines have not been read yet */
	uint64		seenChanges;	/* PipelineChangeCount() at the last read */
	TimestampTz lastRefresh;	/* when the pipelines were last read */
	uint64		round;			/* rounds run so far */
};

/* dispatch_state.c */
extern bool IsDue(ScheduledPipeline *scheduled, TimestampTz now);
extern void ComputeNextRun(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);
extern void EndRun(ScheduledPipeline *scheduled);
extern ScheduledPipeline *FindScheduledPipeline(PipelineDispatcher *dispatcher,
												const char *name);
extern bool HeldBackByParents(PipelineDispatcher *dispatcher, ScheduledPipeline *scheduled);

#endif							/* INCREMENTAL_DISPATCH_INTERNAL_H */
