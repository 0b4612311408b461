/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  A worker: a background worker logged in to one database as one role,
 *	  that runs that role's pipelines on their schedules.
 *
 * Each worker serves one role, and only ever runs code as that role: its
 * session is logged in as the role (the launcher starts it with the role's
 * OID), so whatever a pipeline leaves in its session -- a dblink
 * connection, a session advisory lock, PL/Python's GD, a prepared
 * statement -- can only be seen by the same role's pipelines, as with
 * pg_cron, which runs each job in a session of its user.  A database
 * whose pipelines all have one owner has one worker.  The worker reads
 * the catalog as any role may, and writes it through the catalog layer,
 * which switches to the catalog's owner for its own fixed statements.
 *
 * The worker of the bootstrap superuser is also how the launcher, which
 * connects to no database, learns which roles have pipelines: every worker
 * publishes them at each re-read of the pipelines (shmem.c), and when the
 * launcher knows nothing about a database it starts that one.
 *
 * The launcher starts the worker and never the postmaster, so the worker
 * exits whenever it has no business in the database, saying why in its
 * shared-memory slot: the extension is missing or was dropped, the
 * database became a template or stopped accepting connections, the
 * scheduler was disabled (incremental.enabled), its role has no scheduled
 * pipeline left or may no longer log in, the settings stored for its role
 * or database changed (it logs in again, login_settings.c), or it was
 * asked to stop.  The launcher decides what happens next.
 *
 * The loop body is a checklist: absorb interrupts (ProcSignalBarriers
 * included, or DROP DATABASE elsewhere would hang), reload settings,
 * re-read the pipelines if they or the role changed (checking on the way
 * that the database, the extension and the role still want a worker), run
 * one round of due pipelines (dispatch_run.c), trim the run history, then
 * sleep on the latch until the next pipeline is due, incremental.naptime
 * at most.  Every round's transactions are committed before the worker
 * sleeps, and the memory of a round is freed with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timeout.h"

#include "catalog/pipeline_catalog.h"
#include "catalog/pipeline_dependency_catalog.h"
#include "scheduler/dispatch.h"
#include "scheduler/guc.h"
#include "scheduler/login_settings.h"
#include "scheduler/process_common.h"
#include "scheduler/role_login.h"
#include "scheduler/shmem.h"
#include "scheduler/worker.h"
#include "scheduler/worker_xact.h"

/* How often a worker trims incremental.pipeline_runs */
#define HISTORY_TRIM_INTERVAL_MS (60 * 1000)

/* Who this worker is */
static WorkerIdentity myIdentity;

/* Set by syscache callbacks: the role, or its right to connect, changed */
static volatile bool loginMayHaveChanged = true;
static uint32 myRoleHash;		/* of the role and the database, in those caches */
static uint32 myDatabaseHash;

/* Said once per worker: more roles than shared memory can name */
static bool tooManyRolesLogged = false;

static TimestampTz lastHistoryTrim = 0;

static void RecoverFromLoopError(MemoryContext loopContext);
static void RefreshOrExit(PipelineDispatcher *dispatcher);
static void PublishRoles(List *pipelines, uint64 seenChanges);
static int	CompareDatabaseRoles(const void *a, const void *b);
static bool DatabaseIsServable(void);
static void TrimRunHistoryIfDue(void);
static void LoginMayHaveChanged(Datum arg, int cacheId, uint32 hashValue);
static void ExitWorker(WorkerExitReason reason)
			pg_attribute_noreturn();


/*
 * Registers a worker for the role in the database; called by the
 * launcher, which receives the postmaster's notices of its start and exit.
 * False when no background worker slot is free.
 */
bool
StartWorker(WorkerIdentity identity, const char *databaseName,
			BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_incremental", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "IncrementalWorkerMain", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_incremental worker for database %s, role %u",
			 databaseName, identity.roleId);
	strlcpy(worker.bgw_type, "pg_incremental worker", BGW_MAXLEN);
	memcpy(worker.bgw_extra, &identity, sizeof(identity));
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = MyProcPid;

	return RegisterDynamicBackgroundWorker(&worker, handle);
}


void
IncrementalWorkerMain(Datum mainArg)
{
	PipelineDispatcher *dispatcher;
	MemoryContext loopContext;
	sigjmp_buf	local_sigjmp_buf;
	int			otherPid;

	memcpy(&myIdentity, MyBgworkerEntry->bgw_extra, sizeof(myIdentity));

	/* die() lets a long pipeline be interrupted at CHECK_FOR_INTERRUPTS */
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	/*
	 * Logged in as the role whose pipelines this worker runs.  The bootstrap
	 * superuser's worker connects as it without a login check, since it is
	 * also the one that finds out which roles have pipelines; it checks
	 * its own right to log in before running anything, as every worker
	 * does.  Connect even if connections are off, to exit quietly below.
	 */
	BackgroundWorkerInitializeConnectionByOid(myIdentity.databaseId,
											  myIdentity.roleId == BOOTSTRAP_SUPERUSERID ?
											  InvalidOid : myIdentity.roleId,
											  BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname("pg_incremental worker");

	if (!AttachToWorkerSlot(myIdentity, &otherPid))
	{
		if (otherPid != 0)
			ereport(LOG,
					(errmsg("pg_incremental worker exits: the worker with PID %d already serves role %u in this database",
							otherPid, myIdentity.roleId)));
		proc_exit(0);
	}

	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);

	/*
	 * Keep the session's identity whatever ALTER ROLE ... SET role says:
	 * every batch runs as its owner anyway, and the worker's own reads are
	 * its login role's.  The other stored settings are the session's, as
	 * for any login, until they change.
	 */
	SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
	StartTransactionCommand();
	RememberLoginSettings();
	myRoleHash = GetSysCacheHashValue1(AUTHOID, ObjectIdGetDatum(myIdentity.roleId));
	myDatabaseHash = GetSysCacheHashValue1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	CommitTransactionCommand();

	CacheRegisterSyscacheCallback(AUTHOID, LoginMayHaveChanged, (Datum) 0);
	CacheRegisterSyscacheCallback(DATABASEOID, LoginMayHaveChanged, (Datum) 0);

	dispatcher = CreatePipelineDispatcher(myIdentity.roleId);
	loopContext = AllocSetContextCreate(TopMemoryContext, "pg_incremental worker loop",
										ALLOCSET_DEFAULT_SIZES);

	/*
	 * A batch's errors are caught in dispatch_run.c and recorded against its
	 * pipeline.  An error anywhere else - a pg_cancel_backend() that finds
	 * the worker idle or between batches, a statement or lock timeout while
	 * it reads the catalog - would otherwise find no handler and end the
	 * worker.  Recover the way the checkpointer does and go round again.
	 */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
		RecoverFromLoopError(loopContext);
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		MemoryContextSwitchTo(loopContext);
		MemoryContextReset(loopContext);

		/* asked to stop while idle: no need for a FATAL in the log */
		if (ProcDiePending)
			ExitWorker(WORKER_EXIT_TERMINATED);

		CHECK_FOR_INTERRUPTS();
		ReloadConfigIfPending();

		if (!SchedulerEnabled)
			ExitWorker(WORKER_EXIT_DISABLED);

		if (loginMayHaveChanged || PipelinesNeedRefresh(dispatcher))
			RefreshOrExit(dispatcher);

		/* the extension, the login or its settings changed: the refresh says */
		if (!RunDuePipelines(dispatcher))
			RefreshOrExit(dispatcher);

		TrimRunHistoryIfDue();
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TimeUntilNextDue(dispatcher), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}


/*
 * RecoverFromLoopError cleans up after an error outside any batch, as the
 * checkpointer's loop does, then waits a little, so that an error that
 * repeats cannot make the worker spin.
 */
static void
RecoverFromLoopError(MemoryContext loopContext)
{
	error_context_stack = NULL;
	HOLD_INTERRUPTS();
	disable_all_timeouts(false);
	QueryCancelPending = false;
	EmitErrorReport();

	/* what AbortCurrentTransaction does inside a transaction, also outside */
	LWLockReleaseAll();
	ConditionVariableCancelSleep();
	pgstat_report_wait_end();
	AbortCurrentTransaction();

	MemoryContextSwitchTo(loopContext);
	FlushErrorState();
	MemoryContextReset(loopContext);
	RESUME_INTERRUPTS();

	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 SchedulerNaptimeMs, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}


/*
 * RefreshOrExit re-reads the pipelines in a short transaction, publishes
 * which roles have pipelines, or exits when the database, the extension or
 * the role no longer wants this worker.  Changes to the database itself
 * (ALLOW_CONNECTIONS, IS_TEMPLATE) are noticed at the next re-read, within
 * a few seconds; changes to the role at once.
 */
static void
RefreshOrExit(PipelineDispatcher *dispatcher)
{
	uint64		seenChanges = PipelineChangeCount();
	bool		extensionPresent;
	bool		databaseServable;
	bool		mayLogIn = false;
	bool		settingsChanged;

	extensionPresent = BeginWorkerTransaction();
	loginMayHaveChanged = false;	/* what the transaction's start told */
	databaseServable = DatabaseIsServable();
	settingsChanged = LoginSettingsChanged(true);

	if (extensionPresent && databaseServable)
	{
		List	   *pipelines = ReadAllPipelines();

		PublishRoles(pipelines, seenChanges);
		mayLogIn = RoleMayLogIn(MyDatabaseId, myIdentity.roleId, NULL);
		if (mayLogIn)
		{
			RefreshPipelines(dispatcher, pipelines, seenChanges);
			RefreshPipelineChains(dispatcher, ReadAllPipelineDependencies());
		}
	}
	CommitWorkerTransaction();

	if (!databaseServable)
		ExitWorker(WORKER_EXIT_UNUSABLE);
	if (!extensionPresent)
		ExitWorker(WORKER_EXIT_NO_EXTENSION);
	if (!mayLogIn)
		ExitWorker(WORKER_EXIT_CANNOT_LOG_IN);
	if (settingsChanged)
		ExitWorker(WORKER_EXIT_SETTINGS_CHANGED);
	if (ScheduledPipelineCount(dispatcher) == 0)
		ExitWorker(WORKER_EXIT_NO_PIPELINES);
}


/*
 * PublishRoles tells the launcher which roles own pipelines in this
 * database, those with scheduled pipelines first, for it to start their
 * workers; and tells DROP ROLE, in any database, where a role still owns
 * pipelines.
 */
static void
PublishRoles(List *pipelines, uint64 seenChanges)
{
	int			capacity = MaxRolesPerDatabase();
	DatabaseRole *roles = palloc0((list_length(pipelines) + 1) * sizeof(DatabaseRole));
	int			count = 0;
	ListCell   *cell;

	foreach(cell, pipelines)
	{
		Pipeline   *pipeline = lfirst(cell);
		bool		scheduled = pipeline->schedule != NULL && !pipeline->paused &&
			pipeline->scheduledBy == PIPELINE_SCHEDULER_INTERNAL;
		int			i;

		for (i = 0; i < count && roles[i].roleId != pipeline->ownerId; i++)
			;
		if (i == count)
			roles[count++].roleId = pipeline->ownerId;
		roles[i].hasScheduledPipelines |= scheduled;
	}
	qsort(roles, count, sizeof(DatabaseRole), CompareDatabaseRoles);

	if (count > capacity && !tooManyRolesLogged)
	{
		ereport(LOG,
				(errmsg("pipelines of %d roles in database \"%s\", more than pg_incremental can keep track of (%d)",
						count, get_database_name(MyDatabaseId), capacity),
				 errdetail("Only the first %d roles get workers.", capacity),
				 errhint("Raise incremental.max_workers, or give the pipelines fewer owners.")));
		tooManyRolesLogged = true;
	}

	PublishDatabaseRoles(seenChanges, roles, Min(count, capacity));
}


/* Roles with scheduled pipelines first, then by OID */
static int
CompareDatabaseRoles(const void *a, const void *b)
{
	const DatabaseRole *left = a;
	const DatabaseRole *right = b;

	if (left->hasScheduledPipelines != right->hasScheduledPipelines)
		return left->hasScheduledPipelines ? -1 : 1;
	if (left->roleId != right->roleId)
		return left->roleId < right->roleId ? -1 : 1;
	return 0;
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


/*
 * TrimRunHistoryIfDue keeps incremental.pipeline_runs within
 * incremental.history_retention and incremental.history_max_runs, at most
 * once a minute, in a transaction of its own; a database's workers take
 * turns (TrimPipelineRuns).
 */
static void
TrimRunHistoryIfDue(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!TimestampDifferenceExceeds(lastHistoryTrim, now, HISTORY_TRIM_INTERVAL_MS))
		return;
	lastHistoryTrim = now;

	if (BeginWorkerTransaction())
	{
		uint64		removed = TrimPipelineRuns(HistoryRetentionSeconds,
											   HistoryMaxRunsPerPipeline);

		ereport(DEBUG1,
				(errmsg_internal("removed " UINT64_FORMAT " old pipeline runs", removed)));
	}
	CommitWorkerTransaction();
}


static void
LoginMayHaveChanged(Datum arg, int cacheId, uint32 hashValue)
{
	/* 0: the whole cache was reset */
	if (hashValue == 0 ||
		hashValue == (cacheId == AUTHOID ? myRoleHash : myDatabaseHash))
		loginMayHaveChanged = true;
}


/*
 * ExitWorker tells the launcher why the worker exits, and exits.  A run
 * left unfinished needs nothing more: its batches recorded themselves.
 */
static void
ExitWorker(WorkerExitReason reason)
{
	SetWorkerExitReason(reason);
	pgstat_report_stat(true);
	proc_exit(0);
}
