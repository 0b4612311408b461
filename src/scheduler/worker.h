/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The scheduler's workers: one per role with scheduled pipelines in a
 *	  database, logged in as that role.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_WORKER_H
#define INCREMENTAL_WORKER_H

#include "fmgr.h"
#include "postmaster/bgworker.h"

#include "scheduler/shmem.h"

extern bool StartWorker(WorkerIdentity identity, const char *databaseName,
						BackgroundWorkerHandle **handle);

extern PGDLLEXPORT void IncrementalWorkerMain(Datum mainArg);

#endif							/* INCREMENTAL_WORKER_H */
