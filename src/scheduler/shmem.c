/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The scheduler's shared state.
 *
 * One struct, guarded by one LWLock, tells the processes of the scheduler
 * about each other:
 *
 *	 - the launcher publishes its latch, so that backends can wake it: after
 *	   CREATE EXTENSION commits (probe that database), after CREATE DATABASE,
 *	   and when a block on a database ends;
 *	 - each database that has, or is about to get, a worker has a slot.  The
 *	   launcher reserves the slot before it starts the worker; the worker
 *	   writes its pid and latch into it when it starts and clears them when
 *	   it exits, leaving the reason behind.  A starting worker that finds
 *	   another live pid in its slot exits, so one database never has two
 *	   workers, even after the launcher restarts and forgets what it started;
 *	 - a slot may also carry blockedUntil: a backend about to drop, rename,
 *	   move or copy the database stops its worker and keeps the launcher
 *	   from starting another one until then.
 *
 * The launcher is the only process that frees slots.  There are
 * incremental.max_workers slots for workers plus a few more for databases
 * that are only blocked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "nodes/pg_list.h"
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

/* Slots beyond max_workers, for databases that are blocked but unserved */
#define EXTRA_BLOCK_SLOTS 16

/* Databases that asked the launcher for a probe since it last looked */
#define MAX_PROBE_REQUESTS 32

/* How long a backend waits for a worker it stopped to exit */
#define STOP_WAIT_MS 10000

typedef struct DatabaseSlot
{
	Oid			databaseId;		/* InvalidOid: the slot is free */
	bool		workerLaunched; /* the launcher started a worker for it and
								 * has not yet seen that worker exit */
	pid_t		workerPid;		/* the live worker serving it, or 0 */
	Latch	   *workerLatch;	/* that worker's latch, or NULL */
	WorkerExitReason exitReason;	/* why the last worker exited */
	TimestampTz blockedUntil;	/* start no worker before this */
	uint64		pipelineChanges;	/* commits that concerned its pipelines */
} DatabaseSlot;

typedef struct SchedulerSharedState
{
	LWLock	   *lock;			/* guards everything below */
	pid_t		launcherPid;	/* 0 while no launcher runs */
	Latch	   *launcherLatch;	/* NULL while no launcher runs */
	bool		probeAllRequested;	/* probeRequests overflowed */
	int			numProbeRequests;
	Oid			probeRequests[MAX_PROBE_REQUESTS];	/* databases whose
													 * extension appeared */
	int			numSlots;
	DatabaseSlot slots[FLEXIBLE_ARRAY_MEMBER];
} SchedulerSharedState;

static SchedulerSharedState *sharedState = NULL;
static DatabaseSlot *mySlot = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type previousShmemRequestHook = NULL;
#endif
static shmem_startup_hook_type previousShmemStartupHook = NULL;

static Size SchedulerShmemSize(void);
static void RequestSchedulerShmem(void);
static void StartupSchedulerShmem(void);
static DatabaseSlot *FindSlot(Oid databaseId);
static DatabaseSlot *FindOrAllocateSlot(Oid databaseId);
static bool WorkerIsAlive(pid_t pid);
static void AddProbeRequest(Oid databaseId);
static void DetachFromDatabaseSlot(int code, Datum arg);
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

static Size
SchedulerShmemSize(void)
{
	return add_size(offsetof(SchedulerSharedState, slots),
					mul_size(SchedulerMaxWorkers + EXTRA_BLOCK_SLOTS,
							 sizeof(DatabaseSlot)));
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

	if (previousShmemStartupHook)
		previousShmemStartupHook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sharedState = ShmemInitStruct("pg_incremental scheduler",
								  SchedulerShmemSize(), &found);
	if (!found)
	{
		memset(sharedState, 0, SchedulerShmemSize());
		sharedState->lock = &(GetNamedLWLockTranche(SCHEDULER_TRANCHE_NAME))->lock;
		sharedState->numSlots = SchedulerMaxWorkers + EXTRA_BLOCK_SLOTS;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* False when the library was not preloaded: there is no scheduler */
bool
SchedulerShmemAvailable(void)
{
	return sharedState != NULL;
}

static DatabaseSlot *
FindSlot(Oid databaseId)
{
	for (int i = 0; i < sharedState->numSlots; i++)
	{
		if (sharedState->slots[i].databaseId == databaseId)
			return &sharedState->slots[i];
	}
	return NULL;
}

/* Requires the lock in exclusive mode; NULL when every slot is taken */
static DatabaseSlot *
FindOrAllocateSlot(Oid databaseId)
{
	DatabaseSlot *slot = FindSlot(databaseId);

	if (slot != NULL)
		return slot;

	slot = FindSlot(InvalidOid);
	if (slot != NULL)
	{
		memset(slot, 0, sizeof(DatabaseSlot));
		slot->databaseId = databaseId;
		slot->exitReason = WORKER_EXIT_FAILED;
	}
	return slot;
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
 * without a worker should be probed.
 */
bool
TakeProbeRequests(Oid **databaseIds, int *count)
{
	bool		probeAll;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	probeAll = sharedState->probeAllRequested;
	*count = sharedState->numProbeRequests;
	*databaseIds = palloc(sizeof(Oid) * Max(*count, 1));
	memcpy(*databaseIds, sharedState->probeRequests, sizeof(Oid) * (*count));
	sharedState->probeAllRequested = false;
	sharedState->numProbeRequests = 0;
	LWLockRelease(sharedState->lock);

	return probeAll;
}

/*
 * Called by the launcher just before it starts a worker for the database.
 * False when no slot is free.
 */
bool
ReserveDatabaseSlot(Oid databaseId)
{
	DatabaseSlot *slot;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindOrAllocateSlot(databaseId);
	if (slot != NULL)
	{
		slot->workerLaunched = true;
		slot->exitReason = WORKER_EXIT_FAILED;
	}
	LWLockRelease(sharedState->lock);

	return slot != NULL;
}

void
ReadDatabaseSlot(Oid databaseId, DatabaseSlotStatus *status)
{
	DatabaseSlot *slot;

	memset(status, 0, sizeof(DatabaseSlotStatus));

	LWLockAcquire(sharedState->lock, LW_SHARED);
	slot = FindSlot(databaseId);
	if (slot != NULL)
	{
		status->exists = true;
		status->workerLaunched = slot->workerLaunched;
		status->workerPid = slot->workerPid;
		status->exitReason = slot->exitReason;
		status->blockedUntil = slot->blockedUntil;
	}
	LWLockRelease(sharedState->lock);
}

/* The launcher has seen the worker exit; the slot may be freed */
void
MarkDatabaseWorkerReaped(Oid databaseId)
{
	DatabaseSlot *slot;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindSlot(databaseId);
	if (slot != NULL)
		slot->workerLaunched = false;
	LWLockRelease(sharedState->lock);
}

/*
 * Called by a launcher when it starts: returns the databases (an OID list)
 * whose worker outlived the previous launcher, so that it adopts them
 * instead of starting duplicates.  Slots of workers that are gone are
 * forgotten.
 */
List *
AdoptRunningWorkers(void)
{
	List	   *adopted = NIL;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sharedState->numSlots; i++)
	{
		DatabaseSlot *slot = &sharedState->slots[i];

		if (slot->databaseId == InvalidOid)
			continue;

		if (WorkerIsAlive(slot->workerPid))
		{
			slot->workerLaunched = true;
			adopted = lappend_oid(adopted, slot->databaseId);
		}
		else
		{
			slot->workerLaunched = false;
			slot->workerPid = 0;
			slot->workerLatch = NULL;
		}
	}
	LWLockRelease(sharedState->lock);

	return adopted;
}

/* Frees the slots with no worker and no block */
void
ReleaseUnusedSlots(TimestampTz now)
{
	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	for (int i = 0; i < sharedState->numSlots; i++)
	{
		DatabaseSlot *slot = &sharedState->slots[i];

		if (slot->databaseId != InvalidOid &&
			!slot->workerLaunched &&
			slot->workerPid == 0 &&
			slot->blockedUntil <= now)
			slot->databaseId = InvalidOid;
	}
	LWLockRelease(sharedState->lock);
}

/*
 * Claims the slot of the worker's database (MyDatabaseId).  False when the
 * worker must not run: another live worker owns the database, or no
 * launcher reserved a slot for it (a leftover start request of a launcher
 * that has since restarted).
 */
bool
AttachToDatabaseSlot(void)
{
	DatabaseSlot *slot;
	bool		attached = false;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindSlot(MyDatabaseId);
	if (slot != NULL && slot->workerPid != MyProcPid &&
		!WorkerIsAlive(slot->workerPid))
	{
		slot->workerPid = MyProcPid;
		slot->workerLatch = MyLatch;
		slot->exitReason = WORKER_EXIT_FAILED;
		mySlot = slot;
		attached = true;
	}
	LWLockRelease(sharedState->lock);

	if (attached)
		before_shmem_exit(DetachFromDatabaseSlot, (Datum) 0);

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
DetachFromDatabaseSlot(int code, Datum arg)
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

	/* a launcher that adopted this worker gets no postmaster notice */
	if (launcherLatch != NULL)
		SetLatch(launcherLatch);
}

/*
 * Makes the database's scheduler look at its pipelines now: counts a
 * change for its worker and wakes it, or, when it has none (the extension was just created), the
 * launcher.  The launcher is asked to probe the database either way: a
 * worker that has just found no extension may be exiting right now, and
 * must then be started again.  Call only after commit, or the worker
 * would not see what changed.
 */
void
WakeDatabaseScheduler(Oid databaseId)
{
	DatabaseSlot *slot;
	Latch	   *latch = NULL;

	if (sharedState == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	AddProbeRequest(databaseId);
	slot = FindSlot(databaseId);
	if (slot != NULL)
		slot->pipelineChanges++;
	if (slot != NULL && slot->workerPid != 0)
		latch = slot->workerLatch;
	else
		latch = sharedState->launcherLatch;
	LWLockRelease(sharedState->lock);

	if (latch != NULL)
		SetLatch(latch);
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

	Assert(mySlot != NULL);
	LWLockAcquire(sharedState->lock, LW_SHARED);
	count = mySlot->pipelineChanges;
	LWLockRelease(sharedState->lock);

	return count;
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
 * Stops the database's worker and keeps the launcher from starting
 * another for blockMs, so that DROP/ALTER DATABASE and CREATE DATABASE
 * ... TEMPLATE do not find it connected.  Waits for the worker to exit,
 * absorbing interrupts meanwhile.
 */
void
StopDatabaseWorker(Oid databaseId, int blockMs)
{
	DatabaseSlot *slot;
	pid_t		pid = 0;
	TimestampTz blockedUntil;
	TimestampTz giveUpAt;

	if (sharedState == NULL || !OidIsValid(databaseId))
		return;

	blockedUntil = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), blockMs);

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindOrAllocateSlot(databaseId);
	if (slot != NULL)
	{
		slot->blockedUntil = Max(slot->blockedUntil, blockedUntil);
		pid = slot->workerPid;
	}
	LWLockRelease(sharedState->lock);

	if (pid == 0)
		return;

	ereport(DEBUG1,
			(errmsg("stopping pg_incremental worker with PID %d", (int) pid)));
	kill(pid, SIGTERM);

	giveUpAt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STOP_WAIT_MS);
	for (;;)
	{
		bool		stillRunning;

		CHECK_FOR_INTERRUPTS();

		LWLockAcquire(sharedState->lock, LW_SHARED);
		slot = FindSlot(databaseId);
		stillRunning = slot != NULL && slot->workerPid == pid;
		LWLockRelease(sharedState->lock);

		if (!stillRunning || GetCurrentTimestamp() >= giveUpAt)
			break;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Lifts a block set by StopDatabaseWorker, e.g. because the DDL is done */
void
UnblockDatabaseWorker(Oid databaseId)
{
	DatabaseSlot *slot;

	if (sharedState == NULL)
		return;

	LWLockAcquire(sharedState->lock, LW_EXCLUSIVE);
	slot = FindSlot(databaseId);
	if (slot != NULL)
		slot->blockedUntil = 0;
	LWLockRelease(sharedState->lock);

	WakeLauncher();
}
