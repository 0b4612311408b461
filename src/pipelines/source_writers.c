/*-------------------------------------------------------------------------
 *
 * source_writers.c
 *	  Waiting until no transaction can still add rows to a range that a
 *	  pipeline is about to process.
 *
 * A writer takes a RowExclusiveLock on the table it inserts into before it
 * draws a sequence value or reads the clock for its rows.  So once a
 * pipeline has read the end of its range, waiting for every transaction
 * that holds a lock conflicting with ShareLock on the source guarantees
 * that every row in the range is committed or gone for good.
 *
 * Writers may insert into a partition directly, holding no lock on the
 * partitioned table at all, so the wait covers the source and every table
 * that inherits from it, at any depth.
 *
 * A scheduler must not wait long: it serves every pipeline of a database
 * in one process, and one session that inserted into a source and then sat
 * idle in its transaction would stall them all.  So the wait can be
 * bounded; the batch then gives up, having done nothing, and is tried again
 * later.
 *
 * The wait only helps if the command then reads with a snapshot taken
 * after it, which READ COMMITTED gives each statement.  A REPEATABLE READ
 * or SERIALIZABLE transaction keeps its first snapshot, so the rows the
 * waited-for writers commit would be marked processed without being seen;
 * CheckWaitIsMeaningful refuses to go on in such a transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/timestamp.h"

#include "pipelines/source_writers.h"

static bool WaitForWritersBounded(List *lockTags, int maxWaitMs);


bool
WaitForSourceWriters(Oid relationId, int maxWaitMs)
{
	List	   *relationIds = find_all_inheritors(relationId, NoLock, NULL);
	List	   *lockTags = NIL;
	ListCell   *relationCell;

	foreach(relationCell, relationIds)
	{
		LOCKTAG    *lockTag = palloc(sizeof(LOCKTAG));

		SET_LOCKTAG_RELATION(*lockTag, MyDatabaseId, lfirst_oid(relationCell));
		lockTags = lappend(lockTags, lockTag);
	}

	if (maxWaitMs < 0)
	{
		WaitForLockersMultiple(lockTags, ShareLock, false);
		return true;
	}

	return WaitForWritersBounded(lockTags, maxWaitMs);
}


/*
 * WaitForWritersBounded waits like WaitForLockersMultiple, but for at most
 * maxWaitMs, polling instead of queueing on each writer's lock.  Only the
 * writers present at the start count, as there: later ones cannot add rows
 * to the range.  Polls start at 1 ms, since most writers are about to
 * commit, and back off to 10 ms.
 */
static bool
WaitForWritersBounded(List *lockTags, int maxWaitMs)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), maxWaitMs);
	List	   *writers = NIL;
	ListCell   *cell;
	long		pollMs = 1;

	foreach(cell, lockTags)
	{
		VirtualTransactionId *holders = GetLockConflicts(lfirst(cell), ShareLock, NULL);

		for (; VirtualTransactionIdIsValid(*holders); holders++)
		{
			VirtualTransactionId *writer = palloc(sizeof(VirtualTransactionId));

			*writer = *holders;
			writers = lappend(writers, writer);
		}
	}

	for (;;)
	{
		/* a writer that ended stays ended: drop it */
		foreach(cell, writers)
		{
			if (VirtualXactLock(*(VirtualTransactionId *) lfirst(cell), false))
				writers = foreach_delete_current(writers, cell);
		}

		if (writers == NIL)
			return true;
		if (GetCurrentTimestamp() >= deadline)
			return false;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 pollMs, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pollMs = Min(pollMs * 2, 10);
	}
}


void
CheckWaitIsMeaningful(const char *pipelineName)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("pipeline \"%s\" cannot run in a %s transaction", pipelineName,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("The pipeline waits for concurrent writers of its source, and this "
						   "transaction's snapshot would not see the rows they commit."),
				 errhint("Run it in a READ COMMITTED transaction, or CALL "
						 "incremental.execute_pipeline outside a transaction block.")));
}
