/*-------------------------------------------------------------------------
 *
 * pipeline_run.h
 *	  Running a pipeline: the shared execution path used by
 *	  incremental.execute_pipeline() and by the scheduler's workers.
 *
 * A run is a sequence of batches.  Each batch runs in the caller's current
 * transaction: it takes the pipeline's advisory lock, re-reads the
 * pipeline's progress, computes the next safe range (waiting for writers of
 * the source where the kind requires it), runs the command as the
 * pipeline's owner, and records the new progress.  The caller commits
 * between batches when it can, so a large backlog never becomes one giant
 * transaction; the lock is transaction-scoped, so the next batch starts by
 * taking it again and re-reading progress.
 *
 * The run itself lives in a memory context that the caller provides and
 * that must survive the commits between batches.  Each batch that does
 * work and commits on its own adds itself to the run's row in
 * incremental.pipeline_runs, in its transaction, so the history counts
 * exactly the batches that committed, however the run ends (a run whose
 * batches share one transaction writes once, at its end); a failure is
 * written by the caller (RecordFailedPipelineRun).
 *
 * A scheduled run belongs to the session's user: a batch finds its
 * pipeline gone (PIPELINE_BATCH_GONE) once the pipeline has another owner,
 * so that a batch only ever runs in a session of its owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_RUN_H
#define INCREMENTAL_PIPELINE_RUN_H

#include "datatype/timestamp.h"
#include "utils/palloc.h"

/* Who asked for a run; recorded for monitoring */
typedef enum PipelineRunTrigger
{
	PIPELINE_RUN_BY_USER,
	PIPELINE_RUN_BY_SCHEDULER
} PipelineRunTrigger;

/* What one call to ExecutePipelineBatch did */
typedef enum PipelineBatchOutcome
{
	PIPELINE_BATCH_NO_WORK,		/* nothing new; nothing was written */
	PIPELINE_BATCH_DONE,		/* processed a batch, nothing more for now */
	PIPELINE_BATCH_MORE,		/* processed a batch, more is ready */
	PIPELINE_BATCH_LOCKED,		/* another session runs it (skip mode only) */
	PIPELINE_BATCH_SOURCE_BUSY,	/* the source is locked by DDL, or its
								 * writers still run after
								 * PIPELINE_WRITER_WAIT_MS; nothing was
								 * done (skip mode only) */
	PIPELINE_BATCH_GONE			/* the pipeline is no longer the run's:
								 * dropped, created again, or (scheduled
								 * runs) given to another owner */
} PipelineBatchOutcome;

typedef struct PipelineRun PipelineRun;

/*
 * Starts a run of the named pipeline.  Checks that it exists and that the
 * current user owns it or is a superuser.  With skipIfBusy, a batch returns
 * PIPELINE_BATCH_LOCKED instead of waiting while another session runs the
 * pipeline, and PIPELINE_BATCH_SOURCE_BUSY when the source is locked by
 * DDL or its writers are still at work after PIPELINE_WRITER_WAIT_MS (the
 * scheduler's behaviour); otherwise it waits as long as it takes.
 */
extern PipelineRun *BeginPipelineRun(const char *pipelineName,
									 PipelineRunTrigger trigger,
									 bool skipIfBusy,
									 MemoryContext runContext);

/* How long a batch in skip mode waits for the writers of its source */
#define PIPELINE_WRITER_WAIT_MS 100

/* Runs one batch in the current transaction. */
extern PipelineBatchOutcome ExecutePipelineBatch(PipelineRun *run);

/* The pipeline's command, e.g. for pg_stat_activity */
extern const char *PipelineRunCommand(PipelineRun *run);

/* Number of items (sequence values, intervals, files) processed so far */
extern int64 PipelineRunItemsProcessed(PipelineRun *run);

/*
 * Records a run that succeeded although it processed nothing, in the
 * current transaction: a run that ends a series of failures, or an @reboot
 * run, must say so.  Does nothing if a batch of the run did work (and so
 * recorded it).
 */
extern void RecordSucceededPipelineRun(PipelineRun *run);

/*
 * Records in incremental.pipeline_runs that a run failed, in the row its
 * earlier, committed batches wrote, if any (run is NULL when the run failed
 * before it began), unless the pipeline was dropped, or created again
 * (createdAt differs), meanwhile.  Call it in a new transaction after the
 * failed one was rolled back.
 */
extern void RecordFailedPipelineRun(const char *pipelineName, TimestampTz createdAt,
									PipelineRun *run, const char *errorMessage,
									int sqlerrcode, TimestampTz nextRetryAt);

/*
 * Runs the pipeline to completion in the current transaction, or, when
 * allowCommit is set and the caller is a non-atomic CALL, committing after
 * each batch.
 */
extern void ExecutePipelineToCompletion(const char *pipelineName, bool allowCommit,
										bool reportProgress);

#endif							/* INCREMENTAL_PIPELINE_RUN_H */
