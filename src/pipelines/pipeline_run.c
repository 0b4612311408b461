/*-------------------------------------------------------------------------
 *
 * pipeline_run.c
 *	  The shared execution path of all pipeline kinds: runs and batches.
 *
 * Exactly-once processing rests on three rules kept here:
 *	 - a batch takes the pipeline's lock before it reads the progress, so
 *	   two sessions never process the same range;
 *	 - the progress is re-read from the catalog at every batch, under the
 *	   lock, so a batch always starts where the last committed one ended;
 *	 - the command and the new progress are written in one transaction.
 * A batch that finds nothing to do writes nothing, so it assigns no
 * transaction id, writes no WAL and needs no commit flush.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_run.h"
#include "pipelines/pipeline_access.h"

struct PipelineRun
{
	char	   *pipelineName;
	PipelineRunTrigger trigger;
	bool		skipIfBusy;
	char	   *command;
	TimestampTz createdAt;		/* of the pipeline the run began with */
	MemoryContext batchContext; /* reset after every batch */
	KindRunState kindState;

	/*
	 * The pipeline as read under its lock in transaction lockedXact, which
	 * the first batch uses instead of reading it again when it runs in that
	 * same transaction: nobody can have changed it since.
	 */
	Pipeline   *lockedPipeline;
	LocalTransactionId lockedXact;

	/* for incremental.pipeline_runs (WritePipelineRun) */
	TimestampTz startedAt;
	int64		itemsProcessed; /* so far, by the run's batches */
	int64		runId;			/* the run's row, once a batch wrote it */
};

static PipelineRun *StartPipelineRun(const char *pipelineName, PipelineRunTrigger trigger,
									 bool skipIfBusy, MemoryContext runContext,
									 bool lockHeld);
/* What LockPipelineSource found */
typedef enum SourceLock
{
	SOURCE_LOCKED,				/* locked, or the pipeline has no source */
	SOURCE_GONE,				/* dropped while we waited */
	SOURCE_BUSY					/* held by DDL, and we may not wait */
} SourceLock;

static SourceLock LockPipelineSource(const Pipeline *pipeline, bool wait);
static PipelineBatchOutcome ExecuteKindBatch(const Pipeline *pipeline, PipelineRun *run);
static void RecordBatch(PipelineRun *run, const BatchResult *result, TimestampTz batchStart);
static void RecordRunOutcome(PipelineRun *run, bool succeeded, const char *errorMessage,
							 const char *errorSqlstate, TimestampTz nextRetryAt);
static PipelineBatchOutcome ExecuteBatchRecordingFailure(PipelineRun *run);
static void CommitBatch(void);


PipelineRun *
BeginPipelineRun(const char *pipelineName, PipelineRunTrigger trigger, bool skipIfBusy,
				 MemoryContext runContext)
{
	return StartPipelineRun(pipelineName, trigger, skipIfBusy, runContext, false);
}


/*
 * StartPipelineRun is BeginPipelineRun for a caller that may already hold
 * the pipeline's lock (lockHeld), in which case the pipeline read here is
 * kept for the first batch.
 */
static PipelineRun *
StartPipelineRun(const char *pipelineName, PipelineRunTrigger trigger, bool skipIfBusy,
				 MemoryContext runContext, bool lockHeld)
{
	MemoryContext callerContext = MemoryContextSwitchTo(lockHeld ? runContext :
														CurrentMemoryContext);
	Pipeline   *pipeline = ReadPipeline(pipelineName, false);
	PipelineRun *run;

	MemoryContextSwitchTo(callerContext);

	/*
	 * The scheduler's workers connect as the bootstrap superuser, so this
	 * check always passes for them.  That grants nothing: every batch runs
	 * the pipeline's work as its owner (SwitchToPipelineOwner).
	 */
	CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);

	run = MemoryContextAllocZero(runContext, sizeof(PipelineRun));
	run->pipelineName = MemoryContextStrdup(runContext, pipelineName);
	run->trigger = trigger;
	run->skipIfBusy = skipIfBusy;
	run->kindState.writerWaitMs = skipIfBusy ? PIPELINE_WRITER_WAIT_MS : -1;
	run->command = MemoryContextStrdup(runContext, pipeline->command);
	run->createdAt = pipeline->createdAt;
	run->batchContext = AllocSetContextCreate(runContext, "pipeline batch",
											  ALLOCSET_DEFAULT_SIZES);
	run->kindState.runContext = runContext;
	run->startedAt = GetCurrentTimestamp();

	if (lockHeld)
	{
		run->lockedPipeline = pipeline;
		run->lockedXact = MyProc->lxid;
	}

	return run;
}


/*
 * ExecutePipelineBatch processes at most one batch of the run's pipeline in
 * the current transaction.
 */
PipelineBatchOutcome
ExecutePipelineBatch(PipelineRun *run)
{
	MemoryContext callerContext;
	Pipeline   *pipeline;
	SourceLock	source = SOURCE_LOCKED;
	PipelineBatchOutcome outcome;

	if (!LockPipeline(run->pipelineName, run->skipIfBusy))
		return PIPELINE_BATCH_LOCKED;

	callerContext = MemoryContextSwitchTo(run->batchContext);

	if (run->lockedPipeline != NULL && run->lockedXact == MyProc->lxid)
		pipeline = run->lockedPipeline;
	else
		pipeline = ReadPipeline(run->pipelineName, true);
	run->lockedPipeline = NULL;

	/*
	 * A pipeline dropped and created again under the same name since the
	 * run began is another pipeline: the rest of the run (a file listing,
	 * counters) is not its.
	 */
	if (pipeline != NULL && pipeline->createdAt != run->createdAt)
		pipeline = NULL;

	if (pipeline != NULL)
	{
		/* it may have been dropped and created again by someone else */
		CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);
		source = LockPipelineSource(pipeline, !run->skipIfBusy);

		/* a source dropped while we waited for its lock took the pipeline along */
		if (source == SOURCE_GONE &&
			(pipeline = ReadPipeline(run->pipelineName, true)) != NULL)
		{
			if (pipeline->createdAt != run->createdAt)
				pipeline = NULL;
			else
				CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);
		}
	}

	if (pipeline == NULL)
		outcome = PIPELINE_BATCH_GONE;
	else if (source == SOURCE_BUSY)
		outcome = PIPELINE_BATCH_SOURCE_BUSY;
	else
		outcome = ExecuteKindBatch(pipeline, run);

	MemoryContextSwitchTo(callerContext);
	MemoryContextReset(run->batchContext);

	return outcome;
}


/*
 * LockPipelineSource takes the lock that the command will take on the
 * source table anyway, before the batch locks anything else: DROP TABLE
 * locks the table before the sequence it owns, and a sequence pipeline
 * that locked the sequence first could deadlock with it.  Without 'wait',
 * a source that DDL holds (or waits for: the lock queue is fair) is
 * SOURCE_BUSY; a source dropped while we waited is SOURCE_GONE.
 */
static SourceLock
LockPipelineSource(const Pipeline *pipeline, bool wait)
{
	Oid			sourceId = pipeline->sourceRelationId;

	if (!OidIsValid(sourceId))
		return SOURCE_LOCKED;

	/* as LOCK TABLE checks before it locks, for the role the lock is for */
	CheckPipelineOwner(pipeline);
	CheckOwnerMayReadSource(sourceId, pipeline->ownerId);

	if (wait)
		LockRelationOid(sourceId, AccessShareLock);
	else if (!ConditionalLockRelationOid(sourceId, AccessShareLock))
		return SOURCE_BUSY;

	return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(sourceId)) ?
		SOURCE_LOCKED : SOURCE_GONE;
}


/* ExecuteKindBatch runs one batch of the pipeline's kind as its owner */
static PipelineBatchOutcome
ExecuteKindBatch(const Pipeline *pipeline, PipelineRun *run)
{
	OwnerSwitch ownerSwitch;
	BatchResult result = {0};
	PipelineBatchOutcome outcome = PIPELINE_BATCH_NO_WORK;
	TimestampTz batchStart = GetCurrentTimestamp();

	SwitchToPipelineOwner(pipeline, &ownerSwitch);

	/*
	 * The settings are the session's: the caller's for a manual run, and
	 * for a scheduled one those of the worker, a session logged in as the
	 * owner with the owner's current ALTER ROLE/DATABASE ... SET settings.
	 */
	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			outcome = ExecuteSequenceBatch(pipeline, &run->kindState, &result);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			outcome = ExecuteTimeIntervalBatch(pipeline, &run->kindState, &result);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			outcome = ExecuteFileListBatch(pipeline, &run->kindState, &result);
			break;
	}

	RestoreFromPipelineOwner(&ownerSwitch);

	if (outcome == PIPELINE_BATCH_DONE || outcome == PIPELINE_BATCH_MORE)
		RecordBatch(run, &result, batchStart);

	return outcome;
}


/*
 * RecordBatch adds a batch that did work to the run's row in
 * incremental.pipeline_runs, in the batch's transaction, so that the
 * history says exactly what committed.
 */
static void
RecordBatch(PipelineRun *run, const BatchResult *result, TimestampTz batchStart)
{
	TimestampTz now = GetCurrentTimestamp();
	long		seconds;
	int			microseconds;
	PipelineRunRecord record = {
		.pipelineName = run->pipelineName,
		.runId = run->runId,
		.startedAt = run->startedAt,
		.endedAt = now,
		.succeeded = true,
		.byScheduler = run->trigger == PIPELINE_RUN_BY_SCHEDULER,
		.batches = 1,
		.itemsProcessed = result->itemsProcessed,
		.rowsProcessed = (int64) result->rowsProcessed,
		.rangeStart = result->rangeStart,
		.rangeEnd = result->rangeEnd,
	};

	TimestampDifference(batchStart, now, &seconds, &microseconds);
	record.execTimeMs = seconds * 1000.0 + microseconds / 1000.0;

	run->kindState.batchCount++;
	run->itemsProcessed += result->itemsProcessed;
	run->runId = WritePipelineRun(&record);
}


/*
 * RecordRunOutcome writes how a run ended to its row, or to a new row when
 * none of its batches did work.
 */
static void
RecordRunOutcome(PipelineRun *run, bool succeeded, const char *errorMessage,
				 const char *errorSqlstate, TimestampTz nextRetryAt)
{
	PipelineRunRecord record = {
		.pipelineName = run->pipelineName,
		.runId = run->runId,
		.startedAt = run->startedAt,
		.endedAt = GetCurrentTimestamp(),
		.succeeded = succeeded,
		.byScheduler = run->trigger == PIPELINE_RUN_BY_SCHEDULER,
		.errorMessage = errorMessage,
		.errorSqlstate = errorSqlstate,
		.nextRetryAt = nextRetryAt,
	};

	run->runId = WritePipelineRun(&record);
}


void
RecordSucceededPipelineRun(PipelineRun *run)
{
	if (run->runId == 0)
		RecordRunOutcome(run, true, NULL, NULL, 0);
}


void
RecordFailedPipelineRun(const char *pipelineName, PipelineRun *run, const char *errorMessage,
						int sqlerrcode, TimestampTz nextRetryAt)
{
	PipelineRun notStarted = {
		.pipelineName = unconstify(char *, pipelineName),
		.trigger = PIPELINE_RUN_BY_SCHEDULER,
		.startedAt = GetCurrentTimestamp(),
	};

	RecordRunOutcome(run != NULL ? run : &notStarted, false, errorMessage,
					 unpack_sql_state(sqlerrcode), nextRetryAt);
}


const char *
PipelineRunCommand(PipelineRun *run)
{
	return run->command;
}


int64
PipelineRunItemsProcessed(PipelineRun *run)
{
	return run->itemsProcessed;
}


/*
 * ExecutePipelineToCompletion processes everything the pipeline has to do
 * now.  With allowCommit (a CALL outside a transaction block) each batch is
 * committed as soon as it is done, in READ COMMITTED transactions whatever
 * the default isolation level; otherwise all batches run in the caller's
 * transaction.
 */
void
ExecutePipelineToCompletion(const char *pipelineName, bool allowCommit)
{
	MemoryContext runContext = AllocSetContextCreate(CurrentMemoryContext, "pipeline run",
													 ALLOCSET_DEFAULT_SIZES);
	PipelineRun *run;
	PipelineBatchOutcome outcome;
	bool		lockHeld;

	if (allowCommit && SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * Taking the lock first, when nobody holds it, lets the first batch use
	 * the pipeline read here.  Otherwise the permission check comes before
	 * the wait, and the first batch reads the pipeline once it has the lock.
	 */
	lockHeld = LockPipeline(pipelineName, true);
	run = StartPipelineRun(pipelineName, PIPELINE_RUN_BY_USER, false, runContext, lockHeld);

	/* a snapshot taken before waiting for writers would hide their rows */
	if (allowCommit && IsolationUsesXactSnapshot())
		CommitBatch();

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();

		if (allowCommit)
			outcome = ExecuteBatchRecordingFailure(run);
		else
			outcome = ExecutePipelineBatch(run);
		if (outcome != PIPELINE_BATCH_MORE)
			break;

		if (allowCommit)
			CommitBatch();
	}

	if (allowCommit)
		SPI_finish();

	MemoryContextDelete(runContext);
}


/*
 * ExecuteBatchRecordingFailure runs a batch of a CALL that may commit so
 * that a failure is recorded in the run history, as the scheduler records
 * its own: the batch runs in a subtransaction, whose rollback leaves the
 * transaction usable for the record, which is committed before the error
 * is raised again, unchanged.
 */
static PipelineBatchOutcome
ExecuteBatchRecordingFailure(PipelineRun *run)
{
	MemoryContext callerContext = CurrentMemoryContext;
	ResourceOwner callerOwner = CurrentResourceOwner;
	PipelineBatchOutcome outcome = PIPELINE_BATCH_NO_WORK;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callerContext);

	PG_TRY();
	{
		outcome = ExecutePipelineBatch(run);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callerContext);
		CurrentResourceOwner = callerOwner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(callerContext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callerContext);
		CurrentResourceOwner = callerOwner;

		/* the lock went with the subtransaction; the pipeline may have too */
		(void) LockPipeline(run->pipelineName, false);
		if (ReadPipeline(run->pipelineName, true) != NULL)
			RecordRunOutcome(run, false, edata->message,
							 unpack_sql_state(edata->sqlerrcode), 0);
		CommitBatch();

		ReThrowError(edata);
	}
	PG_END_TRY();

	return outcome;
}


/* CommitBatch commits and continues in a new READ COMMITTED transaction */
static void
CommitBatch(void)
{
	SPI_commit();
	XactIsoLevel = XACT_READ_COMMITTED;
}
