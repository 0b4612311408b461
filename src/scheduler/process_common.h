/*-------------------------------------------------------------------------
 *
 * process_common.h
 *	  Small helpers shared by the launcher and the per-database workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PROCESS_COMMON_H
#define INCREMENTAL_PROCESS_COMMON_H

extern void ReloadConfigIfPending(void);
extern long ExponentialBackoffMs(int failures, long baseMs, long maxMs);

#endif							/* INCREMENTAL_PROCESS_COMMON_H */
