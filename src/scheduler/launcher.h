/*-------------------------------------------------------------------------
 *
 * launcher.h
 *	  The scheduler's launcher: one background worker per cluster that
 *	  starts a worker in each database that has the extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_LAUNCHER_H
#define INCREMENTAL_LAUNCHER_H

#include "fmgr.h"

extern void RegisterSchedulerLauncher(void);

extern PGDLLEXPORT void IncrementalLauncherMain(Datum mainArg);

#endif							/* INCREMENTAL_LAUNCHER_H */
