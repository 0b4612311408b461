/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The extension's settings (incremental.*).
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_GUC_H
#define INCREMENTAL_GUC_H

#include "pgtime.h"

/* incremental.enabled: the scheduler runs pipelines only while on */
extern bool SchedulerEnabled;

/* incremental.max_workers: per-database workers at once, cluster-wide */
extern int	SchedulerMaxWorkers;

/* incremental.naptime: the longest a worker sleeps between checks, in ms */
extern int	SchedulerNaptimeMs;

/* incremental.timezone: the zone cron schedules are evaluated in */
extern char *SchedulerTimezoneName;

/* incremental.history_retention (-1: no age limit) and history_max_runs */
extern int	HistoryRetentionSeconds;
extern int	HistoryMaxRunsPerPipeline;
extern int	MaxConsecutiveFailures;

extern void DefineIncrementalSettings(void);
extern pg_tz *SchedulerTimezone(void);

#endif							/* INCREMENTAL_GUC_H */
