/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The scheduler's per-database worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_WORKER_H
#define INCREMENTAL_WORKER_H

#include "fmgr.h"
#include "postmaster/bgworker.h"

extern bool StartDatabaseWorker(Oid databaseId, const char *databaseName,
								BackgroundWorkerHandle **handle);

extern PGDLLEXPORT void IncrementalWorkerMain(Datum mainArg);

#endif							/* INCREMENTAL_WORKER_H */
