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
#include "miscadmin.h"
#include "storage/lock.h"

#include "pipelines/pipeline_lock.h"


/*
 * LockPipeline takes the pipeline's lock until the end of the transaction.
 * With dontWait it returns false instead of waiting when another session
 * holds it.
 */
bool
LockPipeline(const char *pipelineName, bool dontWait)
{
	uint64		key = hash_bytes_extended((const unsigned char *) pipelineName,
										  strlen(pipelineName), 0);
	LOCKTAG		lockTag;

	SET_LOCKTAG_ADVISORY(lockTag, MyDatabaseId, (uint32) (key >> 32), (uint32) key,
						 PIPELINE_LOCK_CLASS);

	return LockAcquire(&lockTag, ExclusiveLock, false, dontWait) != LOCKACQUIRE_NOT_AVAIL;
}
