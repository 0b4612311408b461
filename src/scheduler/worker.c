/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The per-database worker: a background worker connected to one
 *	  database that runs its pipelines on their schedules.
 *
 * The launcher starts the worker and never the postmaster, so the worker
 * exits whenever it has no business in the database, saying why in its
 * shared-memory slot: the extension is missing or was dropped, the
 * database became a template or stopped accepting connections, the
 * scheduler was disabled (incremental.enabled), or it was asked to stop.
 * The launcher decides what happens next.
 *
 * The loop body is a checklist: absorb interrupts (ProcSignalBarriers
 * included, or DROP DATABASE elsewhere would hang), reload settings,
 * re-read the pipelines if they changed (checking on the way that the
 * database and the extension still want a worker), run one round of due
 * pipelines (dispatch.c), then sleep on the latch until the next pipeline
 * is due, incremental.naptime at most.  Every round's
 * transactions are committed before the worker sleeps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timeout.h"

#include "scheduler/dispatch.h"
#include "scheduler/guc.h"
#include "scheduler/process_common.h"
#include "scheduler/shmem.h"
#include "scheduler/worker.h"
#include "scheduler/worker_xact.h"

static void RecoverFromLoopError(void);
static void RefreshOrExit(PipelineDispatcher *dispatcher);
static bool DatabaseIsServable(void);
static void ExitWorker(WorkerExitReason reason) pg_attribute_noreturn();


/*
 * Registers a worker for the database; called by the launcher, which
 * receives the postmaster's notices of its start and exit.  False when no
 * background worker slot is free.
 */
bool
StartDatabaseWorker(Oid databaseId, const char *databaseName,
					BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_incremental", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "IncrementalWorkerMain", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_incremental worker for database %s",
			 databaseName);
	strlcpy(worker.bgw_type, "pg_incremental worker", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(databaseId);
	worker.bgw_notify_pid = MyProcPid;

	return RegisterDynamicBackgroundWorker(&worker, handle);
}


void
IncrementalWorkerMain(Datum mainArg)
{
	Oid			databaseId = DatumGetObjectId(mainArg);
	PipelineDispatcher *dispatcher;
	sigjmp_buf	local_sigjmp_buf;

	/* die() lets a long pipeline be interrupted at CHECK_FOR_INTERRUPTS */
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	/* connect even if connections are off, to exit quietly below */
	BackgroundWorkerInitializeConnectionByOid(databaseId, InvalidOid,
											  BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname("pg_incremental worker");

	if (!AttachToDatabaseSlot())
	{
		ereport(DEBUG1,
				(errmsg("pg_incremental worker exits: another worker serves this database")));
		proc_exit(0);
	}

	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);

	dispatcher = CreatePipelineDispatcher();

	/*
	 * A batch's errors are caught in dispatch.c and recorded against its
	 * pipeline.  An error anywhere else - a pg_cancel_backend() that finds
	 * the worker idle or between batches, a statement or lock timeout while
	 * it reads the catalog - would otherwise find no handler and end the
	 * worker.  Recover the way the checkpointer does and go round again.
	 */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
		RecoverFromLoopError();
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		/* asked to stop while idle: no need for a FATAL in the log */
		if (ProcDiePending)
			ExitWorker(WORKER_EXIT_TERMINATED);

		CHECK_FOR_INTERRUPTS();
		ReloadConfigIfPending();

		if (!SchedulerEnabled)
			ExitWorker(WORKER_EXIT_DISABLED);

		if (PipelinesNeedRefresh(dispatcher))
			RefreshOrExit(dispatcher);

		/* the extension went away: the refresh says why, and exits */
		if (!RunDuePipelines(dispatcher))
			RefreshOrExit(dispatcher);

		TrimRunHistoryIfDue(dispatcher);
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TimeUntilNextDue(dispatcher), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}



/*
 * RecoverFromLoopError cleans up after an error outside any batch, then
 * waits a little, so that an error that repeats cannot make the worker spin.
 */
static void
RecoverFromLoopError(void)
{
	error_context_stack = NULL;
	HOLD_INTERRUPTS();
	EmitErrorReport();
	AbortCurrentTransaction();
	FlushErrorState();
	disable_all_timeouts(false);
	QueryCancelPending = false;
	MemoryContextSwitchTo(TopMemoryContext);
	RESUME_INTERRUPTS();

	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 SchedulerNaptimeMs, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}


/*
 * RefreshOrExit re-reads the pipelines in a short transaction, or exits
 * when the database or the extension no longer wants a worker.  Changes
 * to the database itself (ALLOW_CONNECTIONS, IS_TEMPLATE) are noticed at
 * the next re-read, within a few seconds.
 */
static void
RefreshOrExit(PipelineDispatcher *dispatcher)
{
	bool		extensionPresent = BeginWorkerTransaction();
	bool		databaseServable = DatabaseIsServable();

	if (extensionPresent && databaseServable)
		RefreshPipelines(dispatcher);
	CommitWorkerTransaction();

	if (!databaseServable)
		ExitWorker(WORKER_EXIT_UNUSABLE);
	if (!extensionPresent)
		ExitWorker(WORKER_EXIT_NO_EXTENSION);
}


/*
 * DatabaseIsServable checks what the launcher checked before starting us,
 * since it may have changed: templates, databases that refuse connections
 * and half-dropped databases get no worker.
 */
static bool
DatabaseIsServable(void)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	Form_pg_database form;
	bool		servable;

	if (!HeapTupleIsValid(tuple))
		return false;

	form = (Form_pg_database) GETSTRUCT(tuple);
	servable = !form->datistemplate && form->datallowconn;
#ifdef DATCONNLIMIT_INVALID_DB
	if (database_is_invalid_form(form))
		servable = false;
#endif
	ReleaseSysCache(tuple);

	return servable;
}


static void
ExitWorker(WorkerExitReason reason)
{
	SetWorkerExitReason(reason);
	pgstat_report_stat(true);
	proc_exit(0);
}
