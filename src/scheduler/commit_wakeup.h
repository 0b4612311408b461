/*-------------------------------------------------------------------------
 *
 * commit_wakeup.h
 *	  Waking the scheduler when a transaction that concerns it commits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_COMMIT_WAKEUP_H
#define INCREMENTAL_COMMIT_WAKEUP_H

extern void InstallCommitWakeup(void);
extern void RequestSchedulerWakeAtCommit(void);
extern void RequestLauncherWakeAtCommit(void);
extern void CountSettingsChangeAtCommit(void);

#endif							/* INCREMENTAL_COMMIT_WAKEUP_H */
