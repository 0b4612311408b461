/*-------------------------------------------------------------------------
 *
 * pg_cron_mode.h
 *	  Scheduling pipelines through pg_cron instead of our own workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PG_CRON_MODE_H
#define INCREMENTAL_PG_CRON_MODE_H

#include "utils/guc.h"

#include "catalog/pipeline_catalog.h"

/* incremental.scheduler: where the schedules of new pipelines go */
extern int	NewPipelineScheduler;
extern const struct config_enum_entry PipelineSchedulerOptions[];

extern bool HandOverToPgCron(const char *pipelineName, const char *schedule);
extern void HandOverCronJob(const Pipeline *pipeline);
extern void FollowScheduleChange(const char *pipelineName);

#endif							/* INCREMENTAL_PG_CRON_MODE_H */
