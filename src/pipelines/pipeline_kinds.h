/*-------------------------------------------------------------------------
 *
 * pipeline_kinds.h
 *	  What each pipeline kind (sequence.c, time_interval.c, file_list.c)
 *	  provides to the shared execution path in pipeline_run.c.
 *
 * Each batch function runs with the pipeline's lock held and as its owner,
 * reads the kind's progress, processes at most one batch, and records the
 * new progress in the same transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_KINDS_H
#define INCREMENTAL_PIPELINE_KINDS_H

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_probe.h"
#include "pipelines/pipeline_run.h"

/* What a batch hands back besides its outcome */
typedef struct BatchResult
{
	int64		itemsProcessed; /* sequence values, intervals or files */
	uint64		rowsProcessed;	/* rows the command reported */
	char	   *rangeStart;		/* first value, interval start or file */
	char	   *rangeEnd;		/* last value, interval end or file */
} BatchResult;

/*
 * State that a kind keeps between the batches of one run, allocated in
 * the run's memory context (file lists remember the listed files).
 */
typedef struct KindRunState
{
	MemoryContext runContext;
	void	   *state;
	int			batchCount;
	int			writerWaitMs;	/* -1: wait for writers as long as it takes */
} KindRunState;

extern PipelineBatchOutcome ExecuteSequenceBatch(const Pipeline *pipeline,
												 KindRunState *runState,
												 BatchResult *result);
extern PipelineBatchOutcome ExecuteTimeIntervalBatch(const Pipeline *pipeline,
													 KindRunState *runState,
													 BatchResult *result);
extern PipelineBatchOutcome ExecuteFileListBatch(const Pipeline *pipeline,
												 KindRunState *runState,
												 BatchResult *result);

/* see pipeline_probe.h */
extern bool SequencePipelineMayHaveWork(const char *pipelineName, PipelineProbe *probe);
extern bool TimeIntervalPipelineMayHaveWork(const char *pipelineName, TimestampTz now,
											PipelineProbe *probe);

/*
 * A batch the next run would process, as incremental.preview_pipeline()
 * shows it: the first and last item, how many, and the command's
 * arguments, as text.
 */
typedef struct BatchPreview
{
	int			batch;			/* its batch, when several ranges make one (Citus'
								 * node groups); 0: its place in the list */
	char	   *first;
	char	   *last;
	int64		items;
	List	   *arguments;		/* char * */
} BatchPreview;

/*
 * The batches the next run of a pipeline would process, at most
 * maxBatches, from its progress as committed, without running its command
 * or waiting for writers.  (A file list pipeline's preview runs its list
 * function, as its owner.)
 */
extern List *PreviewSequenceBatches(const Pipeline *pipeline, int maxBatches);
extern List *PreviewTimeIntervalBatches(const Pipeline *pipeline, int maxBatches);
extern List *PreviewFileListBatches(const Pipeline *pipeline, int maxBatches);

/*
 * Moves a locked pipeline's progress past the range from 'first' (which
 * must be where the next batch starts) to 'last', as if processed, and
 * returns how many items that skips; raises an error for a range that
 * does not start there or lies beyond what the source has.
 */
extern int64 SkipSequenceRange(const Pipeline *pipeline, const char *first, const char *last);
extern int64 SkipTimeIntervalRange(const Pipeline *pipeline, const char *first,
								   const char *last);

extern void ResetSequencePipeline(const Pipeline *pipeline);
extern void ResetTimeIntervalPipeline(const Pipeline *pipeline);
extern void ResetFileListPipeline(const Pipeline *pipeline);

#endif							/* INCREMENTAL_PIPELINE_KINDS_H */
