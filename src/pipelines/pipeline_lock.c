/*-------------------------------------------------------------------------
 *
 * pipeline_lock.c
 *	  The per-pipeline lock that keeps two sessions from running, resetting
 *	  or dropping the same pipeline at once.
 *
 * It is an advisory lock in a key space of our own, keyed by a 64-bit hash
 * of the pipeline's name, and held until the end of the transaction, so it
 * is released with the progress it protects.  Taking it writes nothing.
 * Two names that hash alike merely share a lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"

#include "pipelines/pipeline_lock.h"

PG_FUNCTION_INFO_V1(incremental_pipeline_lock_key);


/* The 64-bit key of a pipeline's lock */
uint64
PipelineLockKey(const char *pipelineName)
{
	return hash_bytes_extended((const unsigned char *) pipelineName,
							   strlen(pipelineName), 0);
}


/*
 * incremental._pipeline_lock_key(pipeline_name text) returns the key as
 * pg_locks shows it: (classid << 32) | objid, so monitoring can tell
 * whether a pipeline is running.
 */
Datum
incremental_pipeline_lock_key(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_INT64((int64) PipelineLockKey(pipelineName));
}


/*
 * LockPipeline takes the pipeline's lock until the end of the transaction.
 * With dontWait it returns false instead of waiting when another session
 * holds it.
 */
bool
LockPipeline(const char *pipelineName, bool dontWait)
{
	uint64		key = PipelineLockKey(pipelineName);
	LOCKTAG		lockTag;

	SET_LOCKTAG_ADVISORY(lockTag, MyDatabaseId, (uint32) (key >> 32), (uint32) key,
						 PIPELINE_LOCK_CLASS);

	return LockAcquire(&lockTag, ExclusiveLock, false, dontWait) != LOCKACQUIRE_NOT_AVAIL;
}
