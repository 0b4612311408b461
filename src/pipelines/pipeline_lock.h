/*-------------------------------------------------------------------------
 *
 * pipeline_lock.h
 *	  The per-pipeline lock that keeps two sessions from running, resetting
 *	  or dropping the same pipeline at once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_LOCK_H
#define INCREMENTAL_PIPELINE_LOCK_H

/*
 * The advisory lock class (LOCKTAG field4) of pipeline locks.  The SQL
 * advisory lock functions use 1 and 2, so user locks never collide with
 * ours; pg_locks shows ours as locktype 'advisory' with this objsubid.
 */
#define PIPELINE_LOCK_CLASS 0x4950

extern uint64 PipelineLockKey(const char *pipelineName);
extern bool LockPipeline(const char *pipelineName, bool dontWait);

#endif							/* INCREMENTAL_PIPELINE_LOCK_H */
