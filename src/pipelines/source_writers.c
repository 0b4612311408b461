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
#include "storage/lmgr.h"
#include "storage/lock.h"

#include "pipelines/source_writers.h"


void
WaitForSourceWriters(Oid relationId)
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

	WaitForLockersMultiple(lockTags, ShareLock, false);
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
