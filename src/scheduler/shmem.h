/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The scheduler's shared state: which worker serves which role in which
 *	  database, which roles have pipelines to run in a database, which
 *	  database may not get a worker for a while, and the launcher's queue
 *	  of wake requests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SCHEDULER_SHMEM_H
#define INCREMENTAL_SCHEDULER_SHMEM_H

#include "datatype/timestamp.h"

/* Why a worker last exited, as it told the launcher */
typedef enum WorkerExitReason
{
	WORKER_EXIT_FAILED,			/* error, crash or never attached */
	WORKER_EXIT_TERMINATED,		/* asked to stop (SIGTERM) while idle */
	WORKER_EXIT_DISABLED,		/* incremental.enabled is off */
	WORKER_EXIT_NO_EXTENSION,	/* the database does not have the extension */
	WORKER_EXIT_UNUSABLE,		/* template, no connections, or being dropped */
	WORKER_EXIT_NO_PIPELINES,	/* its role has no pipeline to run here */
	WORKER_EXIT_CANNOT_LOG_IN,	/* its role may no longer log in here */
	WORKER_EXIT_SETTINGS_CHANGED	/* ALTER ROLE/DATABASE ... SET: log in again */
} WorkerExitReason;

/* Who a worker is: it serves one role's pipelines in one database */
typedef struct WorkerIdentity
{
	Oid			databaseId;
	Oid			roleId;
} WorkerIdentity;

/*
 * A role that owns pipelines in a database, as the database's workers last
 * saw it; the launcher starts workers for the roles with scheduled ones.
 */
typedef struct DatabaseRole
{
	Oid			roleId;
	bool		hasScheduledPipelines;	/* scheduled, not paused, internal */
} DatabaseRole;

/* A live worker, as BlockDatabaseWorkers found it */
typedef struct RunningWorker
{
	WorkerIdentity identity;
	int			pid;
} RunningWorker;

/* A copy of a worker's slot, for the launcher's decisions */
typedef struct WorkerSlotStatus
{
	bool		exists;
	int			workerPid;
	WorkerExitReason exitReason;
} WorkerSlotStatus;

/* set up from _PG_init while preloading */
extern void InstallSchedulerShmemHooks(void);
extern int	MaxRolesPerDatabase(void);

/* launcher */
extern void RegisterLauncherProcess(void);
extern bool TakeProbeRequests(Oid **databaseIds, int *count);
extern bool ReserveWorkerSlot(WorkerIdentity identity);
extern void ReadWorkerSlot(WorkerIdentity identity, WorkerSlotStatus *status);
extern void MarkWorkerReaped(WorkerIdentity identity);
extern int	AdoptRunningWorkers(WorkerIdentity **adopted);
extern void ReleaseUnusedSlots(void);
extern void ForgetDatabaseEntry(Oid databaseId);
extern TimestampTz DatabaseBlockedUntil(Oid databaseId);
extern bool ReadDatabaseRoles(Oid databaseId, uint64 *version, DatabaseRole *roles,
							  int *count);

/* worker */
extern bool AttachToWorkerSlot(WorkerIdentity identity, int *otherPid);
extern void SetWorkerExitReason(WorkerExitReason reason);
extern uint64 PipelineChangeCount(void);
extern void CountSettingsChange(void);
extern uint64 SettingsChangeCount(void);
extern void PublishDatabaseRoles(uint64 seenChanges, const DatabaseRole *roles, int count);

/* any backend */
extern void WakeDatabaseScheduler(Oid databaseId);
extern void WakeLauncher(void);
extern int	BlockDatabaseWorkers(Oid databaseId, int blockMs, RunningWorker **workers);
extern bool WorkerStillRunning(WorkerIdentity identity, int pid);
extern void UnblockDatabaseWorkers(Oid databaseId);
extern int	DatabasesWithRole(Oid roleId, Oid **databaseIds);

#endif							/* INCREMENTAL_SCHEDULER_SHMEM_H */
