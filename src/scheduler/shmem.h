/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The scheduler's shared state: which database has a worker, which may
 *	  not get one for a while, and the launcher's queue of wake requests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SCHEDULER_SHMEM_H
#define INCREMENTAL_SCHEDULER_SHMEM_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* Why a per-database worker last exited, as it told the launcher */
typedef enum WorkerExitReason
{
	WORKER_EXIT_FAILED,			/* error, crash or never attached */
	WORKER_EXIT_TERMINATED,		/* asked to stop (SIGTERM) while idle */
	WORKER_EXIT_DISABLED,		/* incremental.enabled is off */
	WORKER_EXIT_NO_EXTENSION,	/* the database does not have the extension */
	WORKER_EXIT_UNUSABLE,		/* template, no connections, or being dropped */
	WORKER_EXIT_DUPLICATE		/* another live worker serves the database */
} WorkerExitReason;

/* A copy of a database's slot, for the launcher's decisions */
typedef struct DatabaseSlotStatus
{
	bool		exists;
	bool		workerLaunched;
	int			workerPid;
	WorkerExitReason exitReason;
	TimestampTz blockedUntil;
} DatabaseSlotStatus;

/* set up from _PG_init while preloading */
extern void InstallSchedulerShmemHooks(void);
extern bool SchedulerShmemAvailable(void);

/* launcher */
extern void RegisterLauncherProcess(void);
extern bool TakeProbeRequests(Oid **databaseIds, int *count);
extern bool ReserveDatabaseSlot(Oid databaseId);
extern void ReadDatabaseSlot(Oid databaseId, DatabaseSlotStatus *status);
extern void MarkDatabaseWorkerReaped(Oid databaseId);
extern List *AdoptRunningWorkers(void);
extern void ReleaseUnusedSlots(TimestampTz now);

/* per-database worker */
extern bool AttachToDatabaseSlot(void);
extern void SetWorkerExitReason(WorkerExitReason reason);

/* any backend */
extern void WakeDatabaseScheduler(Oid databaseId);
extern uint64 PipelineChangeCount(void);
extern void WakeLauncher(void);
extern void StopDatabaseWorker(Oid databaseId, int blockMs);
extern void UnblockDatabaseWorker(Oid databaseId);

#endif							/* INCREMENTAL_SCHEDULER_SHMEM_H */
