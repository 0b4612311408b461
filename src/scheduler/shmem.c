/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The scheduler's shared state.
 *
 * A worker serves one role in one database: it is logged in as that role
 * and runs only that role's pipelines, so that no session ever runs code
 * of two roles (see worker.c).  One struct, guarded by one LWLock, tells
 * the processes of the scheduler about each other:
 *
 *	 - the launcher publishes its latch, so that backends can wake it: after
 *	   CREATE EXTENSION commits (probe that database), after CREATE DATABASE,
 *	   and when a block on a database ends;
 *	 - each worker, running or about to be started, has a slot keyed by its
 *	   database and role.  The launcher reserves the slot before it starts
 *	   the worker; the worker writes its pid and latch into it when it
 *	   starts and clears them when it exits, leaving the reason behind.  A
 *	   starting worker that finds another live pid in its slot exits, so a
 *	   role never has two workers in a database, even after the launcher
 *	   restarts and forgets what it started;
 *	 - each database the scheduler knows has an entry: the count of commits
 *	   that changed its pipelines (its workers re-read them when it moves),
 *	   the roles that own pipelines there, as its workers last read them
 *	   (the launcher starts a worker for each role with scheduled ones), and
 *	   blockedUntil: a backend about to drop, rename, move or copy the
 *	   database stops its workers and keeps the launcher from starting
 *	   others until then.
 *
 * The launcher is the only process that frees worker slots.  A database
 * entry stays while the database exists and the space is not needed: the
 * roles it names also tell DROP ROLE, in any database, where a role still
 * owns pipelines.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "scheduler/guc.h"
#include "scheduler/shmem.h"

#define SCHEDULER_TRANCHE_NAME "pg_incremental"

/* Databases that asked the launcher for a probe since it last looked */
#define MAX_PROBE_REQUESTS 32

/* At least this many roles per database are remembered */
#define MIN_ROLES_PER_DATABASE 64

/* At least this many databases are remembered */
#define MIN_DATABASE_ENTRIES 64

typedef struct WorkerSlot
{
	WorkerIdentity identity;	/* databaseId InvalidOid: the slot is free */
	bool		workerLaunched; /* the launcher started a worker for it and
								 * has not yet seen that worker exit */
	pid_t		workerPid;		/* the live worker, or 0 */
	Latch	   *workerLatch;	/* that worker's latch, or NULL */
	WorkerExitReason exitReason;	/* why the last worker exited */
} WorkerSlot;

typedef struct DatabaseEntry
{
	Oid			databaseId;		/* InvalidOid: the entry is free */
	TimestampTz blockedUntil;	/* start no worker before this */
	uint64		pipelineChanges;	/* commits that concerned its pipelines */
	bool		rolesKnown;		/* a worker published the roles below */
	uint64		rolesReadAt;	/* pipelineChanges when they were read */
	uint64		rolesVersion;	/* rolesPublications at the last publication */
	int			numRoles;
	DatabaseRole *roles;		/* MaxRolesPerDatabase() of them */
} DatabaseEntry;

typedef struct SchedulerSharedState
{
	LWLock	   *lock;			/* guards everything below */
	pid_t		launcherPid;	/* 0 while no launcher runs */
	Latch	   *launcherLatch;	/* NULL while no launcher runs */
	bool		probeAllRequested;	/* probeRequests overflowed */
	int			numProbeRequests;
	Oid			probeRequests[MAX_PROBE_REQUESTS];	/* databases whose
													 * pipelines or
													 * extension changed */
	uint64		rolesPublications;	/* ever made, in any database: entries
									 * are reused, versions must not be */
	pg_atomic_uint64 settingsChanges;	/* committed ALTER ROLE/DATABASE
										 * ... SET, in any database */
	int			numWorkerSlots;
	int			numDatabaseEntries;
	int			maxRolesPerDatabase;
	/* then the worker slots, the database entries and their roles */
} SchedulerSharedState;

static SchedulerSharedState *sharedState = NULL;
static WorkerSlot *workerSlots = NULL;
static DatabaseEntry *databaseEntries = NULL;

/* this worker's slot and its database's entry */
static WorkerSlot *mySlot = NULL;
static DatabaseEntry *myDatabase = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type previousShmemRequestHook = NULL;
#endif
static shmem_startup_hook_type previousShmemStartupHook = NULL;

static int	WorkerSlotCount(void);
static int	DatabaseEntryCount(void);
static int	RolesPerDatabase(void);
static Size SchedulerShmemSize(void);
static void RequestSchedulerShmem(void);
static void StartupSchedulerShmem(void);
static WorkerSlot *FindWorkerSlot(WorkerIdentity identity);
static WorkerSlot *FindOrAllocateWorkerSlot(WorkerIdentity identity);
static DatabaseEntry *FindDatabaseEntry(Oid databaseId);
static DatabaseEntry *FindOrAllocateDatabaseEntry(Oid databaseId);
static bool DatabaseHasWorkerSlot(Oid databaseId);
static bool WorkerIsAlive(pid_t pid);
static void AddProbeRequest(Oid databaseId);
static void DetachFromWorkerSlot(int code, Datum arg);
static void DetachLauncher(int code, Datum arg);

/*
 * Called from _PG_init while preloading: asks for the memory and the lock,
 * and sets up the struct once shared memory exists.
 */
void
InstallSchedulerShmemHooks(void)
{
#if PG_VERSION_NUM >= 150000
	previousShmemRequestHook = shmem_request_hook;
	shmem_request_hook = RequestSchedulerShmem;
#else
	RequestSchedulerShmem();
#endif
	previousShmemStartupHook = shmem_startup_hook;
	shmem_startup_hook = StartupSchedulerShmem;
}

/* A slot per worker that incremental.max_workers allows */
static int
WorkerSlotCount(void)
{
	return Max(SchedulerMaxWorkers, 1);
}

static int
DatabaseEntryCount(void)
{
	return Max(MIN_DATABASE_ENTRIES, 2 * SchedulerMaxWorkers);
}

static int
RolesPerDatabase(void)
{
	return Max(MIN_ROLES_PER_DATABASE, SchedulerMaxWorkers);
}

/* How many roles with pipelines a database's entry can name */
int
MaxRolesPerDatabase(void)
{
	return sharedState != NULL ? sharedState->maxRolesPerDatabase : RolesPerDatabase();
}

static Size
SchedulerShmemSize(void)
{
	Size		size = MAXALIGN(sizeof(SchedulerSharedState));

	size = add_size(size, MAXALIGN(mul_size(WorkerSlotCount(), sizeof(WorkerSlot))));
	size = add_size(size, MAXALIGN(mul_size(DatabaseEntryCount(), sizeof(DatabaseEntry))));
	size = add_size(size, mul_size(mul_size(DatabaseEntryCount(), RolesPerDatabase()),
								   sizeof(DatabaseRole)));
	return size;
}

static void
RequestSchedulerShmem(void)
{
#if PG_VERSION_NUM >= 150000
	if (previousShmemRequestHook)
		previousShmemRequestHook();
#endif
	RequestAddinShmemSpace(SchedulerShmemSize());
	RequestNamedLWLockTranche(SCHEDULER_TRANCHE_NAME, 1);
}

static void
StartupSchedulerShmem(void)
{
	bool		found;
	char	   *next;
	DatabaseRole *rolePool;

	if (previousShmemStartupHook)
		previousShmemStartupHook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sharedState = ShmemInitStruct("pg_incremental scheduler",
								  SchedulerShmemSize(), &found);
	if (!found)
	{
		memset(sharedState, 0, SchedulerShmemSize());
		sharedState->lock = &(GetNamedLWLockTranche(SCHEDULER_TRANCHE_NAME))->lock;
		sharedState->numWorkerSlots = WorkerSlotCount();
		sharedState->numDatabaseEntries = DatabaseEntryCount();
		sharedState->maxRolesPerDatabase = RolesPerDatabase();
		pg_atomic_init_u64(&sharedState->settingsChanges, 0);
	}

	/* every process computes the same addresses; the struct holds counts */
	next = (char *) sharedState + MAXALIGN(sizeof(SchedulerSharedState));
	workerSlots = (WorkerSlot *) next;
	next += MAXALIGN(sharedState->numWorkerSlots * sizeof(WorkerSlot));
	databaseEntries = (DatabaseEntry *) next;
	next += MAXALIGN(sharedState->numDatabaseEntries * sizeof(DatabaseEntry));
	rolePool = (DatabaseRole *) next;
	for (int i = 0; i < sharedState->numDatabaseEntries; i++)
		databaseEntries[i].roles = rolePool + i * sharedState->maxRolesPerDatabase;
	LWLockRelease(AddinShmemInitLock);
}

static WorkerSlot *
FindWorkerSlot(WorkerIdentity identity)
{
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		WorkerSlot *slot = &workerSlots[i];

		if (slot->identity.databaseId == identity.databaseId &&
			slot->identity.roleId == identity.roleId)
			return slot;
	}
	return NULL;
}

/* Requires the lock in exclusive mode; NULL when every slot is taken */
static WorkerSlot *
FindOrAllocateWorkerSlot(WorkerIdentity identity)
{
	WorkerSlot *slot = FindWorkerSlot(identity);
	WorkerIdentity free = {InvalidOid, InvalidOid};

	if (slot != NULL)
		return slot;

	slot = FindWorkerSlot(free);
	if (slot != NULL)
	{
		memset(slot, 0, sizeof(WorkerSlot));
		slot->identity = identity;
		slot->exitReason = WORKER_EXIT_FAILED;
	}
	return slot;
}

static DatabaseEntry *
FindDatabaseEntry(Oid databaseId)
{
	for (int i = 0; i < sharedState->numDatabaseEntries; i++)
	{
		if (databaseEntries[i].databaseId == databaseId)
			return &databaseEntries[i];
	}
	return NULL;
}

/*
 * Requires the lock in exclusive mode.  When every entry is taken, one of
 * a database without workers and without a block is given up; NULL when
 * there is none.
 */
static DatabaseEntry *
FindOrAllocateDatabaseEntry(Oid databaseId)
{
	DatabaseEntry *entry = FindDatabaseEntry(databaseId);
	TimestampTz now = GetCurrentTimestamp();

	if (entry != NULL)
		return entry;

	entry = FindDatabaseEntry(InvalidOid);
	for (int i = 0; entry == NULL && i < sharedState->numDatabaseEntries; i++)
	{
		DatabaseEntry *candidate = &databaseEntries[i];

		if (candidate->blockedUntil <= now && !DatabaseHasWorkerSlot(candidate->databaseId))
			entry = candidate;
	}

	if (entry != NULL)
	{
		DatabaseRole *roles = entry->roles;

		memset(entry, 0, sizeof(DatabaseEntry));
		entry->roles = roles;
		entry->databaseId = databaseId;
	}
	return entry;
}

static bool
DatabaseHasWorkerSlot(Oid databaseId)
{
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		if (workerSlots[i].identity.databaseId == databaseId)
			return true;
	}
	return false;
}

static bool
WorkerIsAlive(pid_t pid)
{
	return pid != 0 && BackendPidGetProc(pid) != NULL;
}

/*
 * Publishes the launcher's latch.  A previous launcher's leftovers are
 * overwritten: only one launcher runs at a time.
 */
void
RegisterLauncherProcess(void)
{
	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	sharedState->launcherPid = MyProcPid;
	sharedState->launcherLatch = MyLatch;
	LWLockRelease(sharedState->lock);

	before_shmem_exit(DetachLauncher, (Datum) 0);
}

static void
DetachLauncher(int code, Datum arg)
{
	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	if (sharedState->launcherPid == MyProcPid)
	{
		sharedState->launcherPid = 0;
		sharedState->launcherLatch = NULL;
	}
	LWLockRelease(sharedState->lock);
}

/*
 * Hands the launcher the databases that asked for a probe, palloc'd.
 * Returns true when there were too many to remember and every database
 * should be looked at.
 */
bool
TakeProbeRequests(Oid **databaseIds, int *count)
{
	bool		probeAll;

	*databaseIds = palloc(sizeof(Oid) * MAX_PROBE_REQUESTS);

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	probeAll = sharedState->probeAllRequested;
	*count = sharedState->numProbeRequests;
	memcpy(*databaseIds, sharedState->probeRequests, sizeof(Oid) * (*count));
	sharedState->probeAllRequested = false;
	sharedState->numProbeRequests = 0;
	LWLockRelease(sharedState->lock);

	return probeAll;
}

/*
 * Called by the launcher just before it starts a worker.  False when no
 * worker slot or no database entry is free.
 */
bool
ReserveWorkerSlot(WorkerIdentity identity)
{
	WorkerSlot *slot = NULL;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	if (FindOrAllocateDatabaseEntry(identity.databaseId) != NULL)
		slot = FindOrAllocateWorkerSlot(identity);
	if (slot != NULL)
	{
		slot->workerLaunched = true;
		slot->exitReason = WORKER_EXIT_FAILED;
	}
	LWLockRelease(sharedState->lock);

	return slot != NULL;
}

void
ReadWorkerSlot(WorkerIdentity identity, WorkerSlotStatus *status)
{
	WorkerSlot *slot;

	memset(status, 0, sizeof(WorkerSlotStatus));

	LWLockAcquire(sharedState->lock, LW_SHARED);
	slot = FindWorkerSlot(identity);
	if (slot != NULL)
	{
		status->exists = true;
		status->workerPid = slot->workerPid;
		status->exitReason = slot->exitReason;
	}
	LWLockRelease(sharedState->lock);
}

/* The launcher has seen the worker exit; the slot may be freed */
void
MarkWorkerReaped(WorkerIdentity identity)
{
	WorkerSlot *slot;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindWorkerSlot(identity);
	if (slot != NULL)
		slot->workerLaunched = false;
	LWLockRelease(sharedState->lock);
}

/*
 * Called by a launcher when it starts: returns how many workers outlived
 * the previous launcher, and who they are in *adopted (palloc'd), so that
 * it adopts them instead of starting duplicates.  Slots of workers that
 * are gone are forgotten.
 */
int
AdoptRunningWorkers(WorkerIdentity **adopted)
{
	int			count = 0;

	*adopted = palloc(sharedState->numWorkerSlots * sizeof(WorkerIdentity));

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		WorkerSlot *slot = &workerSlots[i];

		if (slot->identity.databaseId == InvalidOid)
			continue;

		if (WorkerIsAlive(slot->workerPid))
		{
			slot->workerLaunched = true;
			(*adopted)[count++] = slot->identity;
		}
		else
		{
			slot->workerLaunched = false;
			slot->workerPid = 0;
			slot->workerLatch = NULL;
		}
	}
	LWLockRelease(sharedState->lock);

	return count;
}

/* Frees the worker slots that neither a starting nor a live worker uses */
void
ReleaseUnusedSlots(void)
{
	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		WorkerSlot *slot = &workerSlots[i];

		if (slot->identity.databaseId != InvalidOid &&
			!slot->workerLaunched && slot->workerPid == 0)
			slot->identity.databaseId = slot->identity.roleId = InvalidOid;
	}
	LWLockRelease(sharedState->lock);
}

/* Frees the entry of a database that is gone, unless it is still in use */
void
ForgetDatabaseEntry(Oid databaseId)
{
	DatabaseEntry *entry;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	entry = FindDatabaseEntry(databaseId);
	if (entry != NULL && entry->blockedUntil <= GetCurrentTimestamp() &&
		!DatabaseHasWorkerSlot(databaseId))
		entry->databaseId = InvalidOid;
	LWLockRelease(sharedState->lock);
}

/* Start no worker in the database before this time (0: none) */
TimestampTz
DatabaseBlockedUntil(Oid databaseId)
{
	DatabaseEntry *entry;
	TimestampTz blockedUntil = 0;

	LWLockAcquire(sharedState->lock, LW_SHARED);
	entry = FindDatabaseEntry(databaseId);
	if (entry != NULL)
		blockedUntil = entry->blockedUntil;
	LWLockRelease(sharedState->lock);

	return blockedUntil;
}

/*
 * ReadDatabaseRoles copies the roles that own pipelines in the database,
 * as its workers last published them, into roles (MaxRolesPerDatabase()
 * entries; NULL: only the version is wanted).  *version changes whenever a
 * worker publishes them, so the launcher can tell a fresh reading.  False
 * when no worker has published them.
 */
bool
ReadDatabaseRoles(Oid databaseId, uint64 *version, DatabaseRole *roles, int *count)
{
	DatabaseEntry *entry;
	bool		known = false;

	*count = 0;
	LWLockAcquire(sharedState->lock, LW_SHARED);
	entry = FindDatabaseEntry(databaseId);
	if (entry != NULL && entry->rolesKnown)
	{
		known = true;
		*version = entry->rolesVersion;
		*count = entry->numRoles;
		if (roles != NULL)
			memcpy(roles, entry->roles, entry->numRoles * sizeof(DatabaseRole));
	}
	LWLockRelease(sharedState->lock);

	return known;
}

/*
 * Claims the worker's slot.  False when the worker must not run: another
 * live worker serves the same role in the database (*otherPid says
 * which), or no launcher reserved a slot for it (a leftover start request
 * of a launcher that has since restarted; *otherPid is 0).
 */
bool
AttachToWorkerSlot(WorkerIdentity identity, int *otherPid)
{
	WorkerSlot *slot;
	bool		attached = false;

	*otherPid = 0;
	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindWorkerSlot(identity);
	if (slot != NULL && slot->workerPid != MyProcPid && WorkerIsAlive(slot->workerPid))
		*otherPid = slot->workerPid;
	else if (slot != NULL && (myDatabase = FindDatabaseEntry(identity.databaseId)) != NULL)
	{
		slot->workerPid = MyProcPid;
		slot->workerLatch = MyLatch;
		slot->exitReason = WORKER_EXIT_FAILED;
		mySlot = slot;
		attached = true;
	}
	LWLockRelease(sharedState->lock);

	if (attached)
		before_shmem_exit(DetachFromWorkerSlot, (Datum) 0);

	return attached;
}

/* Tells the launcher why this worker is about to exit */
void
SetWorkerExitReason(WorkerExitReason reason)
{
	if (mySlot == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	if (mySlot->workerPid == MyProcPid)
		mySlot->exitReason = reason;
	LWLockRelease(sharedState->lock);
}

static void
DetachFromWorkerSlot(int code, Datum arg)
{
	Latch	   *launcherLatch = NULL;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	if (mySlot->workerPid == MyProcPid)
	{
		mySlot->workerPid = 0;
		mySlot->workerLatch = NULL;
	}
	launcherLatch = sharedState->launcherLatch;
	LWLockRelease(sharedState->lock);
	mySlot = NULL;
	myDatabase = NULL;

	/* a launcher that adopted this worker gets no postmaster notice */
	if (launcherLatch != NULL)
		SetLatch(launcherLatch);
}

/*
 * PipelineChangeCount counts the commits that woke this worker's database
 * scheduler (see WakeDatabaseScheduler): the worker re-reads its pipelines
 * when the count moved since it last read them.
 */
uint64
PipelineChangeCount(void)
{
	uint64		count;

	Assert(myDatabase != NULL);
	LWLockAcquire(sharedState->lock, LW_SHARED);
	count = myDatabase->pipelineChanges;
	LWLockRelease(sharedState->lock);

	return count;
}

/*
 * CountSettingsChange counts a committed change to the settings that
 * ALTER ROLE/DATABASE ... SET store; SettingsChangeCount reads the count,
 * which tells a worker when to compare its login's settings with the
 * stored ones (login_settings.c).  Nothing is counted without the preload,
 * when there are no workers either.
 */
void
CountSettingsChange(void)
{
	if (sharedState != NULL)
		pg_atomic_fetch_add_u64(&sharedState->settingsChanges, 1);
}

uint64
SettingsChangeCount(void)
{
	return pg_atomic_read_u64(&sharedState->settingsChanges);
}

/*
 * PublishDatabaseRoles records the roles that own pipelines in this
 * worker's database, as read when the change count was seenChanges, and
 * wakes the launcher when they changed (it polls otherwise).  Another worker of the database
 * may have published a later reading already: an older one is dropped.
 */
void
PublishDatabaseRoles(uint64 seenChanges, const DatabaseRole *roles, int count)
{
	Latch	   *launcherLatch = NULL;

	Assert(myDatabase != NULL);
	count = Min(count, sharedState->maxRolesPerDatabase);

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	if (!myDatabase->rolesKnown || seenChanges >= myDatabase->rolesReadAt)
	{
		if (!myDatabase->rolesKnown || myDatabase->numRoles != count ||
			memcmp(myDatabase->roles, roles, count * sizeof(DatabaseRole)) != 0)
		{
			memcpy(myDatabase->roles, roles, count * sizeof(DatabaseRole));
			myDatabase->numRoles = count;
			launcherLatch = sharedState->launcherLatch;
		}
		myDatabase->rolesKnown = true;
		myDatabase->rolesReadAt = seenChanges;
		myDatabase->rolesVersion = ++sharedState->rolesPublications;
	}
	LWLockRelease(sharedState->lock);

	if (launcherLatch != NULL)
		SetLatch(launcherLatch);
}

/*
 * Makes the database's scheduler look at its pipelines now: counts a
 * change for its workers and wakes them, or, when it has none (the
 * extension was just created, or no role had pipelines to run), the
 * launcher.  The launcher is asked to probe the database either way: a
 * worker that has just found nothing to do may be exiting right now, and
 * the database must then be looked at again.  Call only after commit, or
 * the workers would not see what changed.
 */
void
WakeDatabaseScheduler(Oid databaseId)
{
	DatabaseEntry *entry;
	Latch	   *launcherLatch = NULL;
	bool		hasWorker = false;

	if (sharedState == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	AddProbeRequest(databaseId);
	entry = FindDatabaseEntry(databaseId);
	if (entry != NULL)
		entry->pipelineChanges++;
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		WorkerSlot *slot = &workerSlots[i];

		/* SetLatch takes no lock and raises no error */
		if (slot->identity.databaseId == databaseId && slot->workerPid != 0 &&
			slot->workerLatch != NULL)
		{
			SetLatch(slot->workerLatch);
			hasWorker = true;
		}
	}
	if (!hasWorker)
		launcherLatch = sharedState->launcherLatch;
	LWLockRelease(sharedState->lock);

	if (launcherLatch != NULL)
		SetLatch(launcherLatch);
}

/* Requires the lock in exclusive mode */
static void
AddProbeRequest(Oid databaseId)
{
	for (int i = 0; i < sharedState->numProbeRequests; i++)
	{
		if (sharedState->probeRequests[i] == databaseId)
			return;
	}

	if (sharedState->numProbeRequests < MAX_PROBE_REQUESTS)
		sharedState->probeRequests[sharedState->numProbeRequests++] = databaseId;
	else
		sharedState->probeAllRequested = true;
}

/* Makes the launcher rescan the databases now */
void
WakeLauncher(void)
{
	Latch	   *latch;

	if (sharedState == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_SHARED);
	latch = sharedState->launcherLatch;
	LWLockRelease(sharedState->lock);

	if (latch != NULL)
		SetLatch(latch);
}

/*
 * BlockDatabaseWorkers keeps the launcher from starting workers in the
 * database for blockMs, and returns how many workers it has live, in
 * *workers (palloc'd), for the caller to stop.  None when there is no
 * scheduler.
 */
int
BlockDatabaseWorkers(Oid databaseId, int blockMs, RunningWorker **workers)
{
	DatabaseEntry *entry;
	TimestampTz blockedUntil;
	int			count = 0;

	*workers = NULL;
	if (sharedState == NULL || !OidIsValid(databaseId))
		return 0;

	blockedUntil = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), blockMs);
	*workers = palloc(sharedState->numWorkerSlots * sizeof(RunningWorker));

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	entry = FindOrAllocateDatabaseEntry(databaseId);
	if (entry != NULL)
		entry->blockedUntil = Max(entry->blockedUntil, blockedUntil);
	for (int i = 0; i < sharedState->numWorkerSlots; i++)
	{
		WorkerSlot *slot = &workerSlots[i];

		if (slot->identity.databaseId == databaseId && slot->workerPid != 0)
		{
			(*workers)[count].identity = slot->identity;
			(*workers)[count].pid = (int) slot->workerPid;
			count++;
		}
	}
	LWLockRelease(sharedState->lock);

	return count;
}


/* Whether the worker with this pid still serves its slot */
bool
WorkerStillRunning(WorkerIdentity identity, int pid)
{
	WorkerSlot *slot;
	bool		running;

	LWLockAcquire(sharedState->lock, LW_SHARED);
	slot = FindWorkerSlot(identity);
	running = slot != NULL && slot->workerPid == pid;
	LWLockRelease(sharedState->lock);

	return running;
}

/* Lifts a block set by BlockDatabaseWorkers, e.g. because the DDL is done */
void
UnblockDatabaseWorkers(Oid databaseId)
{
	DatabaseEntry *entry;

	if (sharedState == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	entry = FindDatabaseEntry(databaseId);
	if (entry != NULL)
		entry->blockedUntil = 0;
	LWLockRelease(sharedState->lock);

	WakeLauncher();
}

/*
 * DatabasesWithRole returns how many databases, as their workers last read
 * them, have pipelines of the role, and puts them in *databaseIds
 * (palloc'd).  Databases that no worker has read since they were last
 * changed are not known.
 */
int
DatabasesWithRole(Oid roleId, Oid **databaseIds)
{
	int			count = 0;

	*databaseIds = NULL;
	if (sharedState == NULL)
		return 0;

	*databaseIds = palloc(sharedState->numDatabaseEntries * sizeof(Oid));
	LWLockAcquire(sharedState->lock, LW_SHARED);
	for (int i = 0; i < sharedState->numDatabaseEntries; i++)
	{
		DatabaseEntry *entry = &databaseEntries[i];

		if (entry->databaseId == InvalidOid || !entry->rolesKnown)
			continue;
		for (int j = 0; j < entry->numRoles; j++)
		{
			if (entry->roles[j].roleId == roleId)
			{
				(*databaseIds)[count++] = entry->databaseId;
				break;
			}
		}
	}
	LWLockRelease(sharedState->lock);

	return count;
}
