/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one background worker per cluster that keeps a worker
 *	  running in every database that has the extension.
 *
 * The launcher connects to no database, so it never stands in the way of
 * DROP DATABASE and friends.  It cannot look into a database's catalog
 * either, so it learns which databases have the extension by starting a
 * worker there: a worker that finds no extension exits and says so in its
 * shared-memory slot (shmem.c), and the launcher leaves the database alone
 * until a backend reports, after its CREATE EXTENSION commits, that the
 * extension appeared.  Databases that are new to the launcher are probed
 * the same way, since a copy of a template may already have the extension.
 *
 * Each database moves through three states:
 *
 *	 WANTS_WORKER  -- start a worker once nextStartAt has passed, no block
 *					  is set and incremental.max_workers allows it;
 *	 HAS_WORKER	   -- a worker was started (or adopted from a previous
 *					  launcher) and has not been seen to exit;
 *	 NO_EXTENSION  -- the last worker found no extension; wait for a probe
 *					  request.
 *
 * A worker that fails goes back to WANTS_WORKER with exponential backoff.
 * Workers are never restarted by the postmaster (BGW_NEVER_RESTART): only
 * this file decides, which keeps the count of workers and the blocks set
 * by the DDL hook honest.  The launcher itself is restarted by the
 * postmaster; a new launcher adopts the workers the old one left behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
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
#include "scheduler/process_common.h"
#include "scheduler/launcher.h"
#include "scheduler/shmem.h"
#include "scheduler/worker.h"

/* The postmaster restarts a launcher that exits with an error after this */
#define LAUNCHER_RESTART_SECONDS 5

/* The launcher looks at the databases at least this often */
#define LAUNCHER_MAX_SLEEP_MS 5000

/* Backoff between failed starts of a database's worker */
#define RESTART_BACKOFF_BASE_MS 1000
#define RESTART_BACKOFF_MAX_MS (300 * 1000)

/* A worker that ran this long before failing starts a fresh backoff */
#define HEALTHY_RUN_MS (60 * 1000)

typedef enum DatabaseState
{
	DB_WANTS_WORKER,
	DB_HAS_WORKER,
	DB_NO_EXTENSION
} DatabaseState;

typedef struct KnownDatabase
{
	Oid			databaseId;		/* hash key */
	NameData	name;			/* for log messages */
	DatabaseState state;
	bool		present;		/* seen by the latest scan of pg_database */
	bool		probeRequested; /* probe again even if the worker that is
								 * running now finds no extension */
	BackgroundWorkerHandle *handle; /* NULL when adopted */
	TimestampTz startedAt;
	TimestampTz nextStartAt;
	int			failedStarts;	/* consecutive; drives the backoff */
} KnownDatabase;

static HTAB *knownDatabases = NULL;

/* Log "cannot start" only once per episode */
static bool budgetExhaustedLogged = false;
static bool noFreeWorkerSlotLogged = false;
static int	consecutiveRegistrationFailures = 0;

static void WarnAboutWorkerBudget(void);
static void AdoptWorkersOfPreviousLauncher(void);
static void RefreshDatabaseList(void);
static void HandleProbeRequests(void);
static void ReapExitedWorkers(void);
static void HandleWorkerExit(KnownDatabase *db, WorkerExitReason reason, bool blocked);
static void StartWantedWorkers(void);
static long TimeUntilNextAction(void);
static int	CountDatabasesWithWorker(void);
static KnownDatabase *AddKnownDatabase(Oid databaseId, const char *name);
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

	AdoptWorkersOfPreviousLauncher();

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		ReloadConfigIfPending();

		RefreshDatabaseList();
		HandleProbeRequests();
		ReapExitedWorkers();
		StartWantedWorkers();
		ReleaseUnusedSlots(GetCurrentTimestamp());

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
 * slots instead.
 */
static void
AdoptWorkersOfPreviousLauncher(void)
{
	List	   *adopted = AdoptRunningWorkers();
	ListCell   *cell;

	foreach(cell, adopted)
	{
		KnownDatabase *db = AddKnownDatabase(lfirst_oid(cell), "");

		db->state = DB_HAS_WORKER;
		db->startedAt = GetCurrentTimestamp();
	}
	list_free(adopted);
}

static KnownDatabase *
AddKnownDatabase(Oid databaseId, const char *name)
{
	KnownDatabase *db;
	bool		found;

	db = hash_search(knownDatabases, &databaseId, HASH_ENTER, &found);
	if (!found)
	{
		db->state = DB_WANTS_WORKER;
		db->probeRequested = false;
		db->handle = NULL;
		db->startedAt = 0;
		db->nextStartAt = 0;
		db->failedStarts = 0;
	}
	namestrcpy(&db->name, name);
	db->present = true;
	return db;
}

/*
 * Reads pg_database, as autovacuum does, and probes databases it has not
 * seen before.  Templates, databases that refuse connections and those
 * left invalid by an interrupted DROP DATABASE are not served.
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

	/* forget databases that are gone, once their worker has exited */
	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (!db->present && db->state != DB_HAS_WORKER)
			hash_search(knownDatabases, &db->databaseId, HASH_REMOVE, NULL);
	}
}

/* Databases where the extension was just created get probed again */
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
		if (db == NULL)
			continue;
		if (db->state == DB_NO_EXTENSION)
		{
			db->state = DB_WANTS_WORKER;
			db->nextStartAt = 0;
			db->failedStarts = 0;
		}
		else if (db->state == DB_HAS_WORKER)
			db->probeRequested = true;
	}
	pfree(databaseIds);

	if (!probeAll)
		return;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (db->state == DB_NO_EXTENSION)
			db->state = DB_WANTS_WORKER;
		else if (db->state == DB_HAS_WORKER)
			db->probeRequested = true;
	}
}

/*
 * Notices workers that exited.  A database whose slot shows a live pid is
 * served, whoever started that worker; otherwise the handle, when we have
 * one, tells whether the worker is still on its way.
 */
static void
ReapExitedWorkers(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		DatabaseSlotStatus slot;

		if (db->state != DB_HAS_WORKER)
			continue;

		ReadDatabaseSlot(db->databaseId, &slot);
		if (slot.workerPid != 0)
			continue;

		if (db->handle != NULL)
		{
			pid_t		pid;
			BgwHandleStatus handleStatus = GetBackgroundWorkerPid(db->handle, &pid);

			if (handleStatus == BGWH_POSTMASTER_DIED)
				proc_exit(1);
			if (handleStatus != BGWH_STOPPED)
				continue;
			pfree(db->handle);
			db->handle = NULL;
		}

		MarkDatabaseWorkerReaped(db->databaseId);
		HandleWorkerExit(db,
						 slot.exists ? slot.exitReason : WORKER_EXIT_FAILED,
						 slot.blockedUntil > now);
	}
}

static void
HandleWorkerExit(KnownDatabase *db, WorkerExitReason reason, bool blocked)
{
	TimestampTz now = GetCurrentTimestamp();

	db->state = DB_WANTS_WORKER;
	db->nextStartAt = 0;

	switch (reason)
	{
		case WORKER_EXIT_NO_EXTENSION:
		case WORKER_EXIT_UNUSABLE:
			if (!db->probeRequested)
				db->state = DB_NO_EXTENSION;
			db->failedStarts = 0;
			break;

		case WORKER_EXIT_DISABLED:
		case WORKER_EXIT_DUPLICATE:
			db->failedStarts = 0;
			break;

		case WORKER_EXIT_TERMINATED:
		case WORKER_EXIT_FAILED:
			/* stopped on purpose for DDL: the block decides when to return */
			if (blocked)
				break;

			if (TimestampDifferenceExceeds(db->startedAt, now, HEALTHY_RUN_MS))
				db->failedStarts = 0;
			db->failedStarts++;
			db->nextStartAt = TimestampTzPlusMilliseconds(now, BackoffMs(db->failedStarts));
			ereport(LOG,
					(errmsg("pg_incremental worker for database \"%s\" exited unexpectedly; restarting in %ld ms",
							NameStr(db->name), BackoffMs(db->failedStarts))));
			break;
	}
	db->probeRequested = false;

	if (!db->present)
		hash_search(knownDatabases, &db->databaseId, HASH_REMOVE, NULL);
}

static long
BackoffMs(int failures)
{
	return ExponentialBackoffMs(failures, RESTART_BACKOFF_BASE_MS, RESTART_BACKOFF_MAX_MS);
}

static int
CountDatabasesWithWorker(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	int			count = 0;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (db->state == DB_HAS_WORKER)
			count++;
	}
	return count;
}

/*
 * Starts workers for databases that want one, within the budget.  Never
 * retries in a loop: a failed start is retried on a later tick.
 */
static void
StartWantedWorkers(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	TimestampTz now = GetCurrentTimestamp();
	int			running = CountDatabasesWithWorker();

	if (!SchedulerEnabled)
		return;

	if (running < SchedulerMaxWorkers)
		budgetExhaustedLogged = false;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		DatabaseSlotStatus slot;
		BackgroundWorkerHandle *handle = NULL;
		MemoryContext oldContext;
		bool		started;

		if (db->state != DB_WANTS_WORKER || !db->present || db->nextStartAt > now)
			continue;

		ReadDatabaseSlot(db->databaseId, &slot);
		if (slot.blockedUntil > now)
			continue;

		if (running >= SchedulerMaxWorkers || !ReserveDatabaseSlot(db->databaseId))
		{
			if (!budgetExhaustedLogged)
				ereport(LOG,
						(errmsg("pg_incremental cannot serve database \"%s\" yet: incremental.max_workers (%d) workers are running",
								NameStr(db->name), SchedulerMaxWorkers),
						 errhint("Raise incremental.max_workers to at least the number of databases that use pg_incremental.")));
			budgetExhaustedLogged = true;
			hash_seq_term(&status);
			return;
		}

		/* the handle must outlive the transactions of later ticks */
		oldContext = MemoryContextSwitchTo(TopMemoryContext);
		started = StartDatabaseWorker(db->databaseId, NameStr(db->name), &handle);
		MemoryContextSwitchTo(oldContext);

		if (!started)
		{
			MarkDatabaseWorkerReaped(db->databaseId);
			consecutiveRegistrationFailures++;
			db->nextStartAt = TimestampTzPlusMilliseconds(now, BackoffMs(consecutiveRegistrationFailures));
			if (!noFreeWorkerSlotLogged)
				ereport(LOG,
						(errmsg("pg_incremental could not start a worker for database \"%s\": no background worker slot is free",
								NameStr(db->name)),
						 errhint("Raise max_worker_processes; the worker is retried with backoff.")));
			noFreeWorkerSlotLogged = true;
			hash_seq_term(&status);
			return;
		}

		if (noFreeWorkerSlotLogged)
			ereport(LOG,
					(errmsg("pg_incremental started a worker again after a shortage of background worker slots")));
		noFreeWorkerSlotLogged = false;
		consecutiveRegistrationFailures = 0;

		db->state = DB_HAS_WORKER;
		db->handle = handle;
		db->startedAt = now;
		db->probeRequested = false;
		running++;
	}
}

/*
 * How long the launcher may sleep: until the next database may get its
 * worker, and never longer than LAUNCHER_MAX_SLEEP_MS.  Exits of workers
 * and wake requests set the latch, so they need no polling.
 */
static long
TimeUntilNextAction(void)
{
	HASH_SEQ_STATUS status;
	KnownDatabase *db;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wakeAt = TimestampTzPlusMilliseconds(now, LAUNCHER_MAX_SLEEP_MS);
	bool		canStart = SchedulerEnabled &&
		CountDatabasesWithWorker() < SchedulerMaxWorkers;

	hash_seq_init(&status, knownDatabases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		DatabaseSlotStatus slot;
		TimestampTz startAt;

		if (db->state != DB_WANTS_WORKER || !canStart)
			continue;

		ReadDatabaseSlot(db->databaseId, &slot);
		startAt = Max(db->nextStartAt, slot.blockedUntil);
		wakeAt = Min(wakeAt, startAt);
	}

	return Max(TimestampDifferenceMilliseconds(now, wakeAt), 10);
}
