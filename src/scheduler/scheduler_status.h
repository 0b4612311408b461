/*-------------------------------------------------------------------------
 *
 * scheduler_status.h
 *	  Whether the built-in scheduler runs pipelines in this server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SCHEDULER_STATUS_H
#define INCREMENTAL_SCHEDULER_STATUS_H

extern void SetSchedulerPreloaded(bool preloaded);
extern bool SchedulerPreloaded(void);
extern bool SchedulerRunsPipelines(void);

#endif							/* INCREMENTAL_SCHEDULER_STATUS_H */
