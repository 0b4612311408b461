/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one background worker per cluster that keeps a worker
 *	  running for every role with scheduled pipelines in every database.
 *
 * A worker serves one role in one database, logged in as that role
 * (worker.c), so that no session runs two roles' code.  The launcher
 * connects to no database, so it never stands in the way of DROP DATABASE
 * and friends; it cannot look into a database's catalog either, so it
 * learns which roles have pipelines there from the database's workers,
 * which publish them in shared memory (shmem.c) whenever they re-read the
 * pipelines.  For a database it knows nothing about - one new to it, or
 * one whose extension just appeared, or one that had nothing to run and
 * whose pipelines changed - it starts the bootstrap superuser's worker,
 * which runs no other role's code, publishes the roles, and goes on
 * serving the bootstrap superuser's pipelines or exits.
 *
 * Each database moves through three states:
 *
 *	 DB_UNKNOWN -- its roles are not known: the bootstrap superuser's
 *				   worker is wanted, to find out;
 *	 DB_KNOWN	-- a worker published its roles: each role with scheduled
 *				   pipelines gets a worker;
 *	 DB_IDLE	-- the last worker found no extension, or nothing to run;
 *				   wait for a probe request (a commit that changed its
 *				   pipelines, CREATE EXTENSION).
 *
 * Each wanted worker is WANTED (start it once nextStartAt has passed, no
 * block is set and incremental.max_workers allows it), RUNNING (started,
 * or adopted from a previous launcher, and not seen to exit), or
 * CANNOT_LOG_IN (its role lacks LOGIN, its login expired or it may not
 * connect: said once in the log, looked at again every
 * LOGIN_RECHECK_MS).  A worker that fails is started again with
 * exponential backoff.  Workers are never restarted by the postmaster
 * (BGW_NEVER_RESTART): only this file decides, which keeps the count of
 * workers and the blocks set by the DDL hook honest.  The launcher itself
 * is restarted by the postmaster; a new launcher adopts the workers the
 * old one left behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "scheduler/guc.h"
#include "scheduler/launcher.h"
#include "scheduler/process_common.h"
#include "scheduler/role_login.h"
#include "scheduler/shmem.h"
#include "scheduler/worker.h"

/* The postmaster restarts a launcher that exits with an error after this */
#define LAUNCHER_RESTART_SECONDS 5

/* The launcher looks at the databases at least this often */
#define LAUNCHER_MAX_SLEEP_MS 5000

/* Backoff between failed starts of a worker */
#define RESTART_BACKOFF_BASE_MS 1000
#define RESTART_BACKOFF_MAX_MS (300 * 1000)

/* A worker that ran this long before failing starts a fresh backoff */
#define HEALTHY_RUN_MS (60 * 1000)

/* How often a role that may not log in is looked at again */
#define LOGIN_RECHECK_MS (10 * 1000)

typedef enum DatabaseState
{
	DB_UNKNOWN,
	DB_KNOWN,
	DB_IDLE
} DatabaseState;

typedef struct KnownDatabase
{
	Oid			databaseId;		/* hash key */
	NameData	name;			/* for log messages */
	DatabaseState state;
	bool		present;		/* seen by the latest scan of pg_database */
	bool		probeRequested; /* look again even if the workers that run
								 * now find nothing */
	uint64		rolesVersion;	/* of the published roles last taken in */
} KnownDatabase;

typedef enum WorkerState
{
	WORKER_WANTED,
	WORKER_RUNNING,
	WORKER_CANNOT_LOG_IN
} WorkerState;

typedef struct KnownWorker
{
	WorkerIdentity identity;	/* hash key */
	NameData	roleName;		/* for log messages, once looked up */
	WorkerState state;
	bool		wanted;			/* its role has scheduled pipelines, or the
								 * database's roles are to be found */
	BackgroundWorkerHandle *handle; /* NULL when adopted */
	TimestampTz startedAt;
	TimestampTz nextStartAt;
	int			failedStarts;	/* consecutive; drives the backoff */
	bool		loginRefusalLogged;
} KnownWorker;

static HTAB *knownDatabases = NULL;
static HTAB *knownWorkers = NULL;

/* Log "cannot start" only once per episode */
static bool budgetExhaustedLogged = false;
static bool noFreeWorkerSlotLogged = false;
static bool noSharedSlotLogged = false;
static int	consecutiveRegistrationFailures = 0;

static void WarnAboutWorkerBudget(void);
static void AdoptWorkersOfPreviousLauncher(void);
static void RefreshDatabaseList(void);
static void HandleProbeRequests(void);
static void ReapExitedWorkers(void);
static void HandleWorkerExit(KnownWorker *worker, WorkerExitReason reason, bool blocked);
static void TakeInPublishedRoles(void);
static void StartWantedWorkers(void);
static bool MayStart(KnownWorker *worker, KnownDatabase *db, TimestampTz now);
static bool StartOneWorker(KnownWorker *worker, KnownDatabase *db, TimestampTz now);
static long TimeUntilNextAction(void);
static int	CountRunningWorkers(void);
static bool DatabaseHasWorkers(Oid databaseId, bool runningOnly);
static void SettleIdleDatabase(KnownDatabase *db);
static void RequestProbe(KnownDatabase *db);
static void ForgetWaitingWorkers(Oid databaseId);
static bool PublishedRolesVersion(Oid databaseId, uint64 *version);
static KnownDatabase *AddKnownDatabase(Oid databaseId, const char *name);
static KnownWorker *WantWorker(Oid databaseId, Oid roleId);
static void ForgetWorker(KnownWorker *worker);
static long BackoffMs(int failures);

/*
 * Registers the launcher with the postmaster; called from _PG_init while
 * preloading.
 */
void
RegisterSchedulerLauncher(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = LAUNCHER_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, "pg_incremental", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "IncrementalLauncherMain", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "pg_incremental launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "pg_incremental launcher", BGW_MAXLEN);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;

	RegisterBackgroundWorker(&worker);
}

void
IncrementalLauncherMain(Datum mainArg)
{
	HASHCTL		hashInfo;

	/* the launcher runs no query a cancel could mean */
	pqsignal(SIGINT, SIG_IGN);
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	/* shared catalogs only: no database can be kept busy by the launcher */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pg_incremental launcher");

	RegisterLauncherProcess();
	WarnAboutWorkerBudget();

	memset(&hashInfo, 0, sizeof(hashInfo));
	hashInfo.keysize = sizeof(Oid);
	hashInfo.entrysize = sizeof(KnownDatabase);
	knownDatabases = hash_create("pg_incremental known databases", 64,
								 &hashInfo, HASH_ELEM | HASH_BLOBS);
	hashInfo.keysize = sizeof(WorkerIdentity);
	hashInfo.entrysize = sizeof(KnownWorker);
	knownWorkers = hash_create("pg_incremental known workers", 64,
							   &hashInfo, HASH_ELEM | HASH_BLOBS);

	AdoptWorkersOfPreviousLauncher();

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		ReloadConfigIfPending();

		RefreshDatabaseList();
		HandleProbeRequests();
		ReapExitedWorkers();
		TakeInPublishedRoles();
		StartWantedWorkers();
		ReleaseUnusedSlots();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TimeUntilNextAction(), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* The launcher and the workers share max_worker_processes with others */
static void
WarnAboutWorkerBudget(void)
{
	if (SchedulerMaxWorkers + 1 > max_worker_processes)
		ereport(WARNING,
				(errmsg("incremental.max_workers (%d) exceeds what max_worker_processes (%d) leaves after the launcher",
						SchedulerMaxWorkers, max_worker_processes),
				 errhint("Raise max_worker_processes to at least %d, plus what parallel query and replication need.",
						 SchedulerMaxWorkers + 1)));
}

/*
 * A launcher restarted after an error finds the previous launcher's
 * workers still running; it cannot get their handles, so it watches their
 * slots instead.  Their databases' roles are known to the workers, which
 * publish them again at their next re-read.
 */
static void
AdoptWorkersOfPreviousLauncher(void)
{
	WorkerIdentity *adopted;
	int			count = AdoptRunningWorkers(&adopted);

	for (int i = 0; i < count; i++)
	{
		KnownDatabase *db = AddKnownDatabase(adopted[i].databaseId, "");
		KnownWorker *worker = WantWorker(adopted[i].databaseId, adopted[i].roleId);

		db->state = DB_KNOWN;
		worker->state = WORKER_RUNNING;
		worker->startedAt = GetCurrentTimestamp();
	}
	pfree(adopted);
}

static KnownDatabase *
AddKnownDatabase(Oid databaseId, const char *name)
{
	KnownDatabase *db;
	bool		found;

	db = hash_search(knownDatabases, &databaseId, HASH_ENTER, &found);
	if (!found)
	{
		db->state = DB_UNKNOWN;
		db->probeRequested = false;
		db->rolesVersion = 0;
	}
	if (name[0] != '\0' || !found)
		namestrcpy(&db->name, name);
	db->present = true;
	return db;
}

/* WantWorker makes the role's worker in the database wanted */
static KnownWorker *
WantWorker(Oid databaseId, Oid roleId)
{
	WorkerIdentity identity = {databaseId, roleId};
	KnownWorker *worker;
	bool		found;

	worker = hash_search(knownWorkers, &identity, HASH_ENTER, &found);
	if (!found)
	{
		worker->state = WORKER_WANTED;
		worker->handle = NULL;
		worker->startedAt = 0;
		worker->nextStartAt = 0;
		worker->failedStarts = 0;
		worker->loginRefusalLogged = false;
		snprintf(NameStr(worker->roleName), NAMEDATALEN, "%u", roleId);
	}
	worker->wanted = true;
	return worker;
}

static void
ForgetWorker(KnownWorker *worker)
{
	if (worker->handle != NULL)
		pfree(worker->handle);
	hash_search(knownWorkers, &worker->identity, HASH_REMOVE, NULL);
}

/*
 * Reads pg_database, as autovacuum does, and takes in databases it has not
 * seen before.  Templates, databases that refuse connections and those
 * left invalid by an interrupted DROP DATABASE are not served; databases
 * that are gone are forgotten once their workers have exited.
 */
static void
RefreshDatabaseList(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	Relation	relation;
	TableScanDesc scan;
	HeapTuple	tuple;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
		db->present = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();

	relation = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(relation, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database form = (Form_pg_database) GETSTRUCT(tuple);

		if (form->datistemplate || !form->datallowconn)
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (database_is_invalid_form(form))
			continue;
#endif
		AddKnownDatabase(form->oid, NameStr(form->datname));
	}
	table_endscan(scan);
	table_close(relation, AccessShareLock);

	CommitTransactionCommand();

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		HASH_SEQ_STATUS workerStatus;
		KnownWorker *worker;

		if (db->present || DatabaseHasWorkers(db->databaseId, true))
			continue;

		hash_seq_init(&workerStatus, knownWorkers);
		while ((worker = hash_seq_search(&workerStatus)) != NULL)
		{
			if (worker->identity.databaseId == db->databaseId)
				ForgetWorker(worker);
		}
		ForgetDatabaseEntry(db->databaseId);
		hash_search(knownDatabases, &db->databaseId, HASH_REMOVE, NULL);
	}
}

/*
 * Databases whose pipelines or extension changed get looked at again: one
 * with a running worker through its workers, which re-read the pipelines
 * and publish the roles anew; any other (idle, or whose wanted workers
 * cannot start) through its bootstrap superuser's worker.
 */
static void
HandleProbeRequests(void)
{
	Oid		   *databaseIds;
	int			count;
	bool		probeAll;
	HASH_SEQ_STATUS status;
	KnownDatabase *db;

	probeAll = TakeProbeRequests(&databaseIds, &count);

	for (int i = 0; i < count; i++)
	{
		db = hash_search(knownDatabases, &databaseIds[i], HASH_FIND, NULL);
		if (db != NULL)
			RequestProbe(db);
	}
	pfree(databaseIds);

	if (!probeAll)
		return;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
		RequestProbe(db);
}

static void
RequestProbe(KnownDatabase *db)
{
	if (db->state == DB_IDLE || !DatabaseHasWorkers(db->databaseId, true))
		db->state = DB_UNKNOWN;
	else
		db->probeRequested = true;
}

/*
 * Notices workers that exited.  A worker whose slot shows a live pid is
 * running, whoever started it; otherwise the handle, when we have one,
 * tells whether the worker is still on its way.
 */
static void
ReapExitedWorkers(void)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		WorkerSlotStatus slot;

		if (worker->state != WORKER_RUNNING)
			continue;

		ReadWorkerSlot(worker->identity, &slot);
		if (slot.workerPid != 0)
			continue;

		if (worker->handle != NULL)
		{
			pid_t		pid;
			BgwHandleStatus handleStatus = GetBackgroundWorkerPid(worker->handle, &pid);

			if (handleStatus == BGWH_POSTMASTER_DIED)
				proc_exit(1);
			if (handleStatus != BGWH_STOPPED)
				continue;
			pfree(worker->handle);
			worker->handle = NULL;
		}

		MarkWorkerReaped(worker->identity);
		HandleWorkerExit(worker,
						 slot.exists ? slot.exitReason : WORKER_EXIT_FAILED,
						 DatabaseBlockedUntil(worker->identity.databaseId) > GetCurrentTimestamp());
	}
}

static void
HandleWorkerExit(KnownWorker *worker, WorkerExitReason reason, bool blocked)
{
	TimestampTz now = GetCurrentTimestamp();
	KnownDatabase *db = hash_search(knownDatabases, &worker->identity.databaseId,
									HASH_FIND, NULL);

	worker->state = WORKER_WANTED;
	worker->nextStartAt = 0;

	switch (reason)
	{
		case WORKER_EXIT_NO_EXTENSION:
		case WORKER_EXIT_UNUSABLE:
			/* nothing to do in the database; its running workers will see */
			worker->wanted = false;
			if (db != NULL)
				ForgetWaitingWorkers(db->databaseId);
			break;

		case WORKER_EXIT_NO_PIPELINES:
			worker->wanted = false;
			break;

		case WORKER_EXIT_CANNOT_LOG_IN:
			/* StartWantedWorkers looks at once, says why, and waits */
			worker->state = WORKER_CANNOT_LOG_IN;
			break;

		case WORKER_EXIT_DISABLED:
		case WORKER_EXIT_SETTINGS_CHANGED:
			worker->failedStarts = 0;
			break;

		case WORKER_EXIT_TERMINATED:
		case WORKER_EXIT_FAILED:
			/* stopped on purpose for DDL: the block decides when to return */
			if (blocked)
				break;

			if (TimestampDifferenceExceeds(worker->startedAt, now, HEALTHY_RUN_MS))
				worker->failedStarts = 0;
			worker->failedStarts++;
			worker->nextStartAt = TimestampTzPlusMilliseconds(now, BackoffMs(worker->failedStarts));
			ereport(LOG,
					(errmsg("pg_incremental worker for role \"%s\" in database \"%s\" exited unexpectedly; restarting in %ld ms",
							NameStr(worker->roleName),
							db != NULL ? NameStr(db->name) : "?",
							BackoffMs(worker->failedStarts))));
			break;
	}

	if (!worker->wanted)
		ForgetWorker(worker);
	if (db != NULL)
		SettleIdleDatabase(db);
}

/*
 * SettleIdleDatabase: a database left with no worker, running or wanted,
 * waits for a probe request, unless one came meanwhile: then its roles are
 * looked up again.
 */
static void
SettleIdleDatabase(KnownDatabase *db)
{
	uint64		version;

	if (DatabaseHasWorkers(db->databaseId, false) ||
		(PublishedRolesVersion(db->databaseId, &version) && version != db->rolesVersion))
		return;

	db->state = db->probeRequested ? DB_UNKNOWN : DB_IDLE;
	db->probeRequested = false;
}


/* ForgetWaitingWorkers forgets the database's workers that are not running */
static void
ForgetWaitingWorkers(Oid databaseId)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		if (worker->identity.databaseId == databaseId && worker->state != WORKER_RUNNING)
			ForgetWorker(worker);
	}
}


/* The version of the roles a database's workers published, if any */
static bool
PublishedRolesVersion(Oid databaseId, uint64 *version)
{
	int			count;

	return ReadDatabaseRoles(databaseId, version, NULL, &count);
}

static long
BackoffMs(int failures)
{
	return ExponentialBackoffMs(failures, RESTART_BACKOFF_BASE_MS, RESTART_BACKOFF_MAX_MS);
}

/*
 * TakeInPublishedRoles wants a worker for every role with scheduled
 * pipelines in a database whose workers published new roles, and no
 * longer wants those of roles that have none.  A database whose roles are
 * not known wants its bootstrap superuser's worker, to find out.
 */
static void
TakeInPublishedRoles(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	DatabaseRole *roles = palloc(MaxRolesPerDatabase() * sizeof(DatabaseRole));

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		uint64		version;
		int			count;
		HASH_SEQ_STATUS workerStatus;
		KnownWorker *worker;

		if (!db->present || db->state == DB_IDLE)
			continue;

		if (!ReadDatabaseRoles(db->databaseId, &version, roles, &count) ||
			version == db->rolesVersion)
		{
			/* nothing new: a database whose roles are not known looks */
			if (db->state == DB_UNKNOWN && !DatabaseHasWorkers(db->databaseId, true))
				(void) WantWorker(db->databaseId, BOOTSTRAP_SUPERUSERID);
			continue;
		}

		db->rolesVersion = version;
		db->state = DB_KNOWN;

		/* no longer wanted unless named again below */
		hash_seq_init(&workerStatus, knownWorkers);
		while ((worker = hash_seq_search(&workerStatus)) != NULL)
		{
			if (worker->identity.databaseId == db->databaseId)
				worker->wanted = false;
		}

		for (int i = 0; i < count; i++)
		{
			if (roles[i].hasScheduledPipelines)
				(void) WantWorker(db->databaseId, roles[i].roleId);
		}

		hash_seq_init(&workerStatus, knownWorkers);
		while ((worker = hash_seq_search(&workerStatus)) != NULL)
		{
			if (worker->identity.databaseId == db->databaseId && !worker->wanted &&
				worker->state != WORKER_RUNNING)
				ForgetWorker(worker);
		}

		SettleIdleDatabase(db);
	}

	pfree(roles);
}

static int
CountRunningWorkers(void)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;
	int			count = 0;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		if (worker->state == WORKER_RUNNING)
			count++;
	}
	return count;
}

/* Whether the database has workers running (or, !runningOnly, wanted) */
static bool
DatabaseHasWorkers(Oid databaseId, bool runningOnly)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		if (worker->identity.databaseId == databaseId &&
			(!runningOnly || worker->state == WORKER_RUNNING))
		{
			hash_seq_term(&status);
			return true;
		}
	}
	return false;
}

/*
 * Starts the workers that are wanted and may start, within the budget.
 * Never retries in a loop: a failed start is retried on a later tick,
 * after a backoff.  Whether a role may log in is looked up in a
 * transaction (the launcher reads only shared catalogs).
 */
static void
StartWantedWorkers(void)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;
	TimestampTz now = GetCurrentTimestamp();
	int			running = CountRunningWorkers();
	int			started = 0;
	bool		startFailed = false;
	bool		inTransaction = false;

	if (!SchedulerEnabled)
		return;

	if (running < SchedulerMaxWorkers)
		budgetExhaustedLogged = false;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		KnownDatabase *db = hash_search(knownDatabases, &worker->identity.databaseId,
										HASH_FIND, NULL);

		if (worker->state == WORKER_RUNNING || db == NULL || !db->present ||
			worker->nextStartAt > now ||
			DatabaseBlockedUntil(worker->identity.databaseId) > now)
			continue;

		if (db->state == DB_IDLE)
			continue;

		if (!inTransaction)
		{
			SetCurrentStatementStartTimestamp();
			StartTransactionCommand();
			inTransaction = true;
		}

		if (!MayStart(worker, db, now))
			continue;

		if (running >= SchedulerMaxWorkers)
		{
			if (!budgetExhaustedLogged)
				ereport(LOG,
						(errmsg("pg_incremental cannot run the pipelines of role \"%s\" in database \"%s\" yet: incremental.max_workers (%d) workers are running",
								NameStr(worker->roleName), NameStr(db->name), SchedulerMaxWorkers),
						 errdetail("Each role with scheduled pipelines in a database has a worker of its own."),
						 errhint("Raise incremental.max_workers to at least the number of roles with scheduled pipelines, counted in every database.")));
			budgetExhaustedLogged = true;
			hash_seq_term(&status);
			break;
		}

		if (!StartOneWorker(worker, db, now))
		{
			startFailed = true;
			hash_seq_term(&status);
			break;
		}
		started++;
		running++;
	}

	if (inTransaction)
		CommitTransactionCommand();

	/* a shortage ends when a round of starts has no failure */
	if (started > 0 && !startFailed && noFreeWorkerSlotLogged)
	{
		ereport(LOG,
				(errmsg("pg_incremental started workers again after a shortage of background worker slots")));
		noFreeWorkerSlotLogged = false;
	}
}

/*
 * MayStart: the worker's role may log in to the database now.  The
 * bootstrap superuser's worker always may while the database's roles are
 * unknown, since it is the one that finds them out (it checks its own
 * login before running its pipelines); once they are known, it is asked
 * like any other.
 */
static bool
MayStart(KnownWorker *worker, KnownDatabase *db, TimestampTz now)
{
	char	   *reason = NULL;
	char	   *roleName = GetUserNameFromId(worker->identity.roleId, true);

	if (roleName != NULL)
		namestrcpy(&worker->roleName, roleName);

	if ((worker->identity.roleId == BOOTSTRAP_SUPERUSERID && db->state == DB_UNKNOWN) ||
		RoleMayLogIn(worker->identity.databaseId, worker->identity.roleId, &reason))
	{
		if (worker->state == WORKER_CANNOT_LOG_IN)
		{
			worker->state = WORKER_WANTED;
			worker->loginRefusalLogged = false;
		}
		return true;
	}

	worker->state = WORKER_CANNOT_LOG_IN;
	worker->nextStartAt = TimestampTzPlusMilliseconds(now, LOGIN_RECHECK_MS);
	if (!worker->loginRefusalLogged)
		ereport(LOG,
				(errmsg("pg_incremental does not run the pipelines of role \"%s\" in database \"%s\": the role may not log in",
						NameStr(worker->roleName), NameStr(db->name)),
				 errdetail_internal("%s", reason),
				 errhint("Let the role log in again, or give its pipelines to a role that may (REASSIGN OWNED), or drop them.")));
	worker->loginRefusalLogged = true;
	return false;
}

/*
 * StartOneWorker reserves the worker's slot and registers it.  False, with
 * a backoff, when no slot is free.
 */
static bool
StartOneWorker(KnownWorker *worker, KnownDatabase *db, TimestampTz now)
{
	BackgroundWorkerHandle *handle = NULL;
	MemoryContext oldContext;
	bool		started;

	if (!ReserveWorkerSlot(worker->identity))
	{
		consecutiveRegistrationFailures++;
		worker->nextStartAt = TimestampTzPlusMilliseconds(now, BackoffMs(consecutiveRegistrationFailures));
		if (!noSharedSlotLogged)
			ereport(LOG,
					(errmsg("pg_incremental could not start a worker in database \"%s\": its shared memory has no free slot",
							NameStr(db->name)),
					 errdetail("Slots are held by workers that are exiting, or by databases whose DDL blocks their workers."),
					 errhint("The worker is retried with backoff.")));
		noSharedSlotLogged = true;
		return false;
	}
	noSharedSlotLogged = false;

	/* the handle must outlive the transactions of later ticks */
	oldContext = MemoryContextSwitchTo(TopMemoryContext);
	started = StartWorker(worker->identity, NameStr(db->name), &handle);
	MemoryContextSwitchTo(oldContext);

	if (!started)
	{
		MarkWorkerReaped(worker->identity);
		consecutiveRegistrationFailures++;
		worker->nextStartAt = TimestampTzPlusMilliseconds(now, BackoffMs(consecutiveRegistrationFailures));
		if (!noFreeWorkerSlotLogged)
			ereport(LOG,
					(errmsg("pg_incremental could not start a worker in database \"%s\": no background worker slot is free",
							NameStr(db->name)),
					 errhint("Raise max_worker_processes; the worker is retried with backoff.")));
		noFreeWorkerSlotLogged = true;
		return false;
	}

	consecutiveRegistrationFailures = 0;

	worker->state = WORKER_RUNNING;
	worker->handle = handle;
	worker->startedAt = now;
	db->probeRequested = false;
	return true;
}

/*
 * How long the launcher may sleep: until the next worker may start, and
 * never longer than LAUNCHER_MAX_SLEEP_MS.  Exits of workers, published
 * roles and wake requests set the latch, so they need no polling.
 */
static long
TimeUntilNextAction(void)
{
	HASH_SEQ_STATUS status;
	KnownWorker *worker;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wakeAt = TimestampTzPlusMilliseconds(now, LAUNCHER_MAX_SLEEP_MS);
	bool		canStart = SchedulerEnabled && CountRunningWorkers() < SchedulerMaxWorkers;

	if (!canStart)
		return LAUNCHER_MAX_SLEEP_MS;

	hash_seq_init(&status, knownWorkers);
	while ((worker = hash_seq_search(&status)) != NULL)
	{
		if (worker->state == WORKER_RUNNING)
			continue;
		wakeAt = Min(wakeAt, Max(worker->nextStartAt,
								 DatabaseBlockedUntil(worker->identity.databaseId)));
	}

	return Max(TimestampDifferenceMilliseconds(now, wakeAt), 10);
}
