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
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_progress.h"
#include "pipelines/pipeline_run.h"
#include "pipelines/pipeline_access.h"

struct PipelineRun
{
	char	   *pipelineName;
	PipelineRunTrigger trigger;
	bool		skipIfBusy;
	char	   *command;
	TimestampTz createdAt;		/* of the pipeline the run began with */
	Oid			ownerId;		/* a scheduled run's only owner (InvalidOid:
								 * any) */
	MemoryContext batchContext; /* reset after every batch */
	KindRunState kindState;

	/*
	 * The pipeline as read under its lock in transaction lockedXact, which
	 * the first batch uses instead of reading it again when it runs in that
	 * same transaction: nobody can have changed it since.
	 */
	Pipeline   *lockedPipeline;
	LocalTransactionId lockedXact;

	/*
	 * For incremental.pipeline_runs (WritePipelineRun): what the batches did
	 * that is not written yet.  A run whose batches commit one by one writes
	 * each batch; one whose batches all share a transaction writes once, at
	 * the end, since its batches commit or roll back together.
	 */
	TimestampTz startedAt;
	int64		itemsProcessed; /* so far, by the run's batches */
	bool		writeEachBatch;
	PipelineRunRecord unwritten;
	int64		runId;			/* the run's row, once a batch wrote it */
	PipelineStanding standing;	/* the pipeline's, before the run */
};

static PipelineRun *StartPipelineRun(const char *pipelineName, PipelineRunTrigger trigger,
									 bool skipIfBusy, MemoryContext runContext,
									 bool lockHeld, bool writeEachBatch);
static Pipeline *ReadRunPipeline(PipelineRun *run);
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
static void WriteUnwritten(PipelineRun *run);
static void RecordRunOutcome(PipelineRun *run, bool succeeded, const char *errorMessage,
							 const char *errorSqlstate, TimestampTz nextRetryAt);
static PipelineBatchOutcome ExecuteBatchRecordingFailure(PipelineRun *run);
static void CommitBatch(void);


PipelineRun *
BeginPipelineRun(const char *pipelineName, PipelineRunTrigger trigger, bool skipIfBusy,
				 MemoryContext runContext)
{
	/*
	 * With the lock (when nobody holds it), the first batch, in this
	 * transaction, uses the pipeline read here instead of reading it again.
	 */
	bool		lockHeld = LockPipeline(pipelineName, true);

	return StartPipelineRun(pipelineName, trigger, skipIfBusy, runContext, lockHeld, true);
}


/*
 * StartPipelineRun is BeginPipelineRun for a caller that may already hold
 * the pipeline's lock (lockHeld), in which case the pipeline read here is
 * kept for the first batch, and whose batches may all share a transaction
 * (!writeEachBatch).
 */
static PipelineRun *
StartPipelineRun(const char *pipelineName, PipelineRunTrigger trigger, bool skipIfBusy,
				 MemoryContext runContext, bool lockHeld, bool writeEachBatch)
{
	MemoryContext callerContext = MemoryContextSwitchTo(lockHeld ? runContext :
														CurrentMemoryContext);
	Pipeline   *pipeline = ReadPipeline(pipelineName, false);
	PipelineRun *run;

	MemoryContextSwitchTo(callerContext);

	/*
	 * Running it grants nothing: every batch runs the pipeline's work as its
	 * owner (SwitchToPipelineOwner).  A scheduled run is made by a session
	 * logged in as the owner, and stays the owner's (ReadRunPipeline).
	 */
	CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);

	run = MemoryContextAllocZero(runContext, sizeof(PipelineRun));
	run->pipelineName = MemoryContextStrdup(runContext, pipelineName);
	run->trigger = trigger;
	run->skipIfBusy = skipIfBusy;
	run->kindState.writerWaitMs = skipIfBusy ? PIPELINE_WRITER_WAIT_MS : -1;
	run->command = MemoryContextStrdup(runContext, pipeline->command);
	run->createdAt = pipeline->createdAt;
	run->ownerId = trigger == PIPELINE_RUN_BY_SCHEDULER ? GetSessionUserId() : InvalidOid;
	run->writeEachBatch = writeEachBatch;
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

	pipeline = ReadRunPipeline(run);
	if (pipeline != NULL)
	{
		source = LockPipelineSource(pipeline, !run->skipIfBusy);

		/* a source dropped while we waited for its lock took the pipeline along */
		if (source == SOURCE_GONE && (pipeline = ReadRunPipeline(run)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("the source table of pipeline \"%s\" no longer exists",
							pipeline->name),
					 errhint("Drop the pipeline with incremental.drop_pipeline.")));
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
 * ReadRunPipeline reads the run's pipeline under its lock and checks that
 * the current user may run it.  NULL when it is no longer the pipeline the
 * run began with: dropped, or created again under the same name (the rest
 * of the run, a file listing and counters, is not its), or, for a
 * scheduled run, given to another owner (REASSIGN OWNED): a scheduled
 * batch runs only in a session that never ran another role's code, the
 * owner's own.
 */
static Pipeline *
ReadRunPipeline(PipelineRun *run)
{
	Pipeline   *pipeline;

	if (run->lockedPipeline != NULL && run->lockedXact == MyProc->lxid)
		pipeline = run->lockedPipeline;
	else
		pipeline = ReadPipeline(run->pipelineName, true);
	run->lockedPipeline = NULL;

	if (pipeline == NULL || pipeline->createdAt != run->createdAt ||
		(OidIsValid(run->ownerId) && pipeline->ownerId != run->ownerId))
		return NULL;

	CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);
	return pipeline;
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
 * RecordBatch adds a batch that did work to what the run has not written to
 * incremental.pipeline_runs yet, and writes it at once when the batch
 * commits on its own, so that the history says exactly what committed.
 */
static void
RecordBatch(PipelineRun *run, const BatchResult *result, TimestampTz batchStart)
{
	MemoryContext runContext = run->kindState.runContext;
	PipelineRunRecord *unwritten = &run->unwritten;
	long		seconds;
	int			microseconds;

	TimestampDifference(batchStart, GetCurrentTimestamp(), &seconds, &microseconds);

	run->kindState.batchCount++;
	run->itemsProcessed += result->itemsProcessed;

	unwritten->batches++;
	unwritten->itemsProcessed += result->itemsProcessed;
	unwritten->rowsProcessed += (int64) result->rowsProcessed;
	unwritten->execTimeMs += seconds * 1000.0 + microseconds / 1000.0;
	if (unwritten->rangeStart == NULL && result->rangeStart != NULL)
		unwritten->rangeStart = MemoryContextStrdup(runContext, result->rangeStart);
	if (result->rangeEnd != NULL)
	{
		if (unwritten->rangeEnd != NULL)
			pfree(unconstify(char *, unwritten->rangeEnd));
		unwritten->rangeEnd = MemoryContextStrdup(runContext, result->rangeEnd);
	}

	if (run->writeEachBatch)
		WriteUnwritten(run);
}


/* WriteUnwritten writes what the run's batches did since its last write */
static void
WriteUnwritten(PipelineRun *run)
{
	PipelineRunRecord *unwritten = &run->unwritten;

	if (unwritten->batches == 0)
		return;

	RecordRunOutcome(run, true, NULL, NULL, 0);
}


/*
 * RecordRunOutcome writes how a run stands, with what its batches did
 * since its last write, to its row, or to a new row when it has none.
 */
static void
RecordRunOutcome(PipelineRun *run, bool succeeded, const char *errorMessage,
				 const char *errorSqlstate, TimestampTz nextRetryAt)
{
	PipelineRunRecord record = run->unwritten;

	record.pipelineName = run->pipelineName;
	record.runId = run->runId;
	record.standing = &run->standing;
	record.startedAt = run->startedAt;
	record.endedAt = GetCurrentTimestamp();
	record.succeeded = succeeded;
	record.byScheduler = run->trigger == PIPELINE_RUN_BY_SCHEDULER;
	record.errorMessage = errorMessage;
	record.errorSqlstate = errorSqlstate;
	record.nextRetryAt = nextRetryAt;

	run->runId = WritePipelineRun(&record);

	if (run->unwritten.rangeStart != NULL)
		pfree(unconstify(char *, run->unwritten.rangeStart));
	if (run->unwritten.rangeEnd != NULL)
		pfree(unconstify(char *, run->unwritten.rangeEnd));
	memset(&run->unwritten, 0, sizeof(PipelineRunRecord));
}


void
RecordSucceededPipelineRun(PipelineRun *run)
{
	if (run->runId == 0)
		RecordRunOutcome(run, true, NULL, NULL, 0);
}


void
RecordFailedPipelineRun(const char *pipelineName, TimestampTz createdAt, PipelineRun *run,
						const char *errorMessage, int sqlerrcode, TimestampTz nextRetryAt)
{
	PipelineRun notStarted = {
		.pipelineName = unconstify(char *, pipelineName),
		.trigger = PIPELINE_RUN_BY_SCHEDULER,
		.startedAt = GetCurrentTimestamp(),
	};
	Pipeline   *pipeline = ReadPipeline(pipelineName, true);

	/* a pipeline dropped, or created again, meanwhile has no row for it */
	if (pipeline == NULL || pipeline->createdAt != createdAt)
		return;

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
ExecutePipelineToCompletion(const char *pipelineName, bool allowCommit, bool reportProgress)
{
	MemoryContext runContext = AllocSetContextCreate(CurrentMemoryContext, "pipeline run",
													 ALLOCSET_DEFAULT_SIZES);
	PipelineRun *run;
	PipelineBatchOutcome outcome;
	bool		lockHeld;
	TimestampTz lastReport;

	if (allowCommit && SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * Taking the lock first, when nobody holds it, lets the first batch use
	 * the pipeline read here.  Otherwise the permission check comes before
	 * the wait, and the first batch reads the pipeline once it has the lock.
	 */
	lockHeld = LockPipeline(pipelineName, true);
	run = StartPipelineRun(pipelineName, PIPELINE_RUN_BY_USER, false, runContext, lockHeld,
						   allowCommit);

	/* a snapshot taken before waiting for writers would hide their rows */
	if (allowCommit && IsolationUsesXactSnapshot())
		CommitBatch();
	lastReport = run->startedAt;

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

		if (reportProgress &&
			TimestampDifferenceExceeds(lastReport, GetCurrentTimestamp(),
									   PROGRESS_REPORT_INTERVAL_MS))
		{
			ReportRunProgress(pipelineName, run->kindState.batchCount, run->itemsProcessed,
							  run->startedAt, false);
			lastReport = GetCurrentTimestamp();
		}
	}

	if (reportProgress)
		ReportRunProgress(pipelineName, run->kindState.batchCount, run->itemsProcessed,
						  run->startedAt, true);

	if (allowCommit)
		SPI_finish();
	else
		WriteUnwritten(run);

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
		RecordFailedPipelineRun(run->pipelineName, run->createdAt, run, edata->message,
								edata->sqlerrcode, 0);
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
