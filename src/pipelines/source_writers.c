/*-------------------------------------------------------------------------
 *
 * source_writers.c
 *	  Waiting until no transaction can still add rows to a range that a
 *	  pipeline is about to process.
 *
 * Two kinds of transaction can still add rows to a range once the
 * pipeline has read where the range ends:
 *
 *	 - those that hold a lock on the source that lets them write to it
 *	   (RowExclusiveLock, or a stronger mode that can write);
 *
 *	 - for a sequence pipeline, also those that hold a lock on the
 *	   sequence: nextval() locks it until the end of the transaction, so a
 *	   transaction that drew a value in one statement and inserts it in a
 *	   later one is waited for although it has not touched the table yet
 *	   (sequence.c refuses cached sequences, whose values are drawn ahead
 *	   of any transaction).  Readers of the sequence through currval() or
 *	   pg_sequence_last_value() take that lock too; they are short;
 *
 *	 - for a time interval pipeline, also every transaction that began
 *	   before the end of the interval, whether or not it has touched the
 *	   source yet: it stamps its rows with its own now(), its start time,
 *	   so it may add a row inside an interval long after the interval
 *	   ended, in a statement it has not yet run.  Which transactions those
 *	   are, the backends' status entries tell (st_xact_start_timestamp is
 *	   that now()); a backend whose entry does not say (track_activities
 *	   off) counts as one, if it is in a transaction.
 *
 * Neither VACUUM nor ANALYZE nor autovacuum adds rows, so their locks
 * (ShareUpdateExclusiveLock) and transactions are not waited for, nor are
 * CREATE INDEX (ShareLock) or, for a sequence pipeline, a transaction that
 * merely reads the source.
 *
 * Writers may insert into a partition directly, holding no lock on the
 * partitioned table at all, so the lock check covers the source and every
 * table that inherits from it, at any depth.
 *
 * A scheduler must not wait long: one session that inserted into a source
 * and then sat idle in its transaction would stall it.  So the wait can be
 * bounded; the batch then gives up, having done nothing, and is tried
 * again later.
 *
 * The wait only helps if the command then reads with a snapshot taken
 * after it, which READ COMMITTED gives each statement.  A REPEATABLE READ
 * or SERIALIZABLE transaction keeps its first snapshot, so the rows the
 * waited-for writers commit would be marked processed without being seen;
 * CheckWaitIsMeaningful refuses to go on in such a transaction.
 *
 * Tests: isolation specs sequence-waits-for-writer, sequence-waits-for-
 * partition-writer, time-interval-waits-for-early-transaction and
 * writers-not-vacuum.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pipelines/source_writers.h"

PG_FUNCTION_INFO_V1(incremental_wait_for_writers);

/* The lock modes that let a transaction add rows to a table */
#define WRITE_LOCK_MASK (LOCKBIT_ON(RowExclusiveLock) | \
						 LOCKBIT_ON(ShareRowExclusiveLock) | \
						 LOCKBIT_ON(ExclusiveLock) | \
						 LOCKBIT_ON(AccessExclusiveLock))

/* Transactions that neither write user tables nor stamp rows */
#define NON_WRITER_PROC_FLAGS (PROC_IS_AUTOVACUUM | PROC_IN_VACUUM)

static List *AddLockHoldingWriters(List *writers, const LOCKTAG *lockTag,
								   LockData **lockData);
static bool HoldsWriteLock(const LOCKTAG *lockTag, VirtualTransactionId vxid,
						   LockData **lockData);
static bool IsVacuum(VirtualTransactionId vxid);
static bool LockTagsEqual(const LOCKTAG *a, const LOCKTAG *b);
static List *AddTransactionsStartedBefore(List *writers, TimestampTz cutoff);
static List *AddWriter(List *writers, VirtualTransactionId vxid);
static bool WaitForTransactions(List *writers, int maxWaitMs);


bool
WaitForSourceWriters(Oid relationId, Oid sequenceId, TimestampTz startedBefore, int maxWaitMs)
{
	/* a table without children spares find_all_inheritors its hash table */
	List	   *relationIds = has_subclass(relationId) ?
		find_all_inheritors(relationId, NoLock, NULL) : list_make1_oid(relationId);
	List	   *writers = NIL;
	LockData   *lockData = NULL;
	ListCell   *relationCell;

	foreach(relationCell, relationIds)
	{
		LOCKTAG		lockTag;

		SET_LOCKTAG_RELATION(lockTag, MyDatabaseId, lfirst_oid(relationCell));
		writers = AddLockHoldingWriters(writers, &lockTag, &lockData);
	}

	if (OidIsValid(sequenceId))
	{
		LOCKTAG		lockTag;
		VirtualTransactionId *holders;

		SET_LOCKTAG_RELATION(lockTag, MyDatabaseId, sequenceId);
		for (holders = GetLockConflicts(&lockTag, ShareLock, NULL);
			 VirtualTransactionIdIsValid(*holders); holders++)
			writers = AddWriter(writers, *holders);
	}

	if (startedBefore != DT_NOBEGIN)
		writers = AddTransactionsStartedBefore(writers, startedBefore);

	return WaitForTransactions(writers, maxWaitMs);
}


/*
 * AddLockHoldingWriters adds the transactions that hold a lock on the
 * relation in a mode that can write.  The lock manager answers "who holds
 * a mode conflicting with X", not "who holds mode Y", so: the holders
 * that conflict with ShareLock hold RowExclusiveLock, ShareUpdateExclusive-
 * Lock or a stronger mode; of those, the ones that do not also conflict
 * with ShareUpdateExclusiveLock can only hold RowExclusiveLock, and are
 * writers.  The rest, normally none, hold ShareUpdateExclusiveLock or
 * stronger: VACUUM and autovacuum are known by their process flags, and
 * for anything else (ANALYZE in a transaction that may also have
 * inserted, say) the lock table says which modes it holds.
 */
static List *
AddLockHoldingWriters(List *writers, const LOCKTAG *lockTag, LockData **lockData)
{
	VirtualTransactionId *holders = GetLockConflicts(lockTag, ShareLock, NULL);
	VirtualTransactionId *strongHolders = NULL;

	for (; VirtualTransactionIdIsValid(*holders); holders++)
	{
		bool		holdsStrongMode = false;

		if (strongHolders == NULL)
			strongHolders = GetLockConflicts(lockTag, ShareUpdateExclusiveLock, NULL);
		for (VirtualTransactionId *strong = strongHolders;
			 VirtualTransactionIdIsValid(*strong); strong++)
		{
			if (VirtualTransactionIdEquals(*strong, *holders))
				holdsStrongMode = true;
		}

		if (!holdsStrongMode ||
			(!IsVacuum(*holders) && HoldsWriteLock(lockTag, *holders, lockData)))
			writers = AddWriter(writers, *holders);
	}

	return writers;
}


/*
 * HoldsWriteLock looks up, in a copy of the whole lock table made on first
 * use, whether the transaction holds the lock in a mode that can write.
 * One that is no longer there has ended, and needs no wait.
 */
static bool
HoldsWriteLock(const LOCKTAG *lockTag, VirtualTransactionId vxid, LockData **lockData)
{
	if (*lockData == NULL)
		*lockData = GetLockStatusData();

	for (int i = 0; i < (*lockData)->nelements; i++)
	{
		LockInstanceData *instance = &(*lockData)->locks[i];

		if (instance->backend == vxid.backendId &&
			instance->lxid == vxid.localTransactionId &&
			LockTagsEqual(&instance->locktag, lockTag) &&
			(instance->holdMask & WRITE_LOCK_MASK) != 0)
			return true;
	}
	return false;
}


/*
 * IsVacuum: the transaction is VACUUM's, or autovacuum's.  VACUUM cannot
 * run in a transaction block, so such a transaction does nothing else.
 */
static bool
IsVacuum(VirtualTransactionId vxid)
{
	PGPROC	   *proc = BackendIdGetProc(vxid.backendId);

	return proc != NULL && proc->lxid == vxid.localTransactionId &&
		(proc->statusFlags & NON_WRITER_PROC_FLAGS) != 0;
}


static bool
LockTagsEqual(const LOCKTAG *a, const LOCKTAG *b)
{
	return a->locktag_field1 == b->locktag_field1 &&
		a->locktag_field2 == b->locktag_field2 &&
		a->locktag_field3 == b->locktag_field3 &&
		a->locktag_field4 == b->locktag_field4 &&
		a->locktag_type == b->locktag_type &&
		a->locktag_lockmethodid == b->locktag_lockmethodid;
}


/*
 * AddTransactionsStartedBefore adds the transactions of this database that
 * began before 'cutoff' and may still write: all of them but ours, VACUUM
 * and autovacuum.  A backend whose status entry does not give its start
 * time (track_activities off, or a background worker that never reported
 * any activity) is added whenever it is in a transaction.  The backends'
 * status is read afresh; each transaction is then identified by the
 * backend's current virtual transaction ID, which at worst names a newer
 * transaction of the same backend: waiting for it is harmless.
 */
static List *
AddTransactionsStartedBefore(List *writers, TimestampTz cutoff)
{
	int			backendCount;

	pgstat_clear_backend_activity_snapshot();
	backendCount = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= backendCount; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *status;
		bool		startKnown;
		PGPROC	   *proc;
		VirtualTransactionId vxid;

		CHECK_FOR_INTERRUPTS();

		if (local == NULL)
			continue;
		status = &local->backendStatus;
		if (status->st_databaseid != MyDatabaseId || status->st_procpid == MyProcPid)
			continue;

		startKnown = status->st_state != STATE_DISABLED &&
			status->st_state != STATE_UNDEFINED;
		if (startKnown && (status->st_xact_start_timestamp == 0 ||
						   status->st_xact_start_timestamp >= cutoff))
			continue;

		proc = BackendPidGetProc(status->st_procpid);
		if (proc == NULL)
			continue;
		GET_VXID_FROM_PGPROC(vxid, *proc);
		if (!VirtualTransactionIdIsValid(vxid) ||
			(proc->statusFlags & NON_WRITER_PROC_FLAGS) != 0)
			continue;

		writers = AddWriter(writers, vxid);
	}

	pgstat_clear_backend_activity_snapshot();
	return writers;
}


static List *
AddWriter(List *writers, VirtualTransactionId vxid)
{
	VirtualTransactionId *writer;
	ListCell   *cell;

	foreach(cell, writers)
	{
		if (VirtualTransactionIdEquals(*(VirtualTransactionId *) lfirst(cell), vxid))
			return writers;
	}

	writer = palloc(sizeof(VirtualTransactionId));
	*writer = vxid;
	return lappend(writers, writer);
}


/*
 * WaitForTransactions waits until every transaction in the list has ended;
 * with maxWaitMs >= 0 for at most that long, polling instead of queueing
 * on each transaction's lock, and returns false if some still run then.
 * Only the transactions found at the start count, as for
 * WaitForLockersMultiple: later ones cannot add rows to the range.  Polls
 * start at 1 ms, since most writers are about to commit, and back off to
 * 10 ms.
 */
static bool
WaitForTransactions(List *writers, int maxWaitMs)
{
	TimestampTz deadline;
	ListCell   *cell;
	long		pollMs = 1;

	if (maxWaitMs < 0)
	{
		foreach(cell, writers)
		{
			CHECK_FOR_INTERRUPTS();
			(void) VirtualXactLock(*(VirtualTransactionId *) lfirst(cell), true);
		}
		return true;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), maxWaitMs);
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


/*
 * incremental._wait_for_writers(source regclass, sequence regclass,
 * started_before timestamptz, max_wait_ms int) waits on this node, as
 * WaitForSourceWriters() does, and returns whether no writer was left.
 * A coordinator calls it on every other Citus node (citus_nodes.c).  The
 * caller needs SELECT on the source: the wait shows that writers exist.
 */
Datum
incremental_wait_for_writers(PG_FUNCTION_ARGS)
{
	Oid			relationId;
	Oid			sequenceId = PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1);
	TimestampTz startedBefore = PG_ARGISNULL(2) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(2);
	int			maxWaitMs = PG_ARGISNULL(3) ? -1 : PG_GETARG_INT32(3);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL")));
	relationId = PG_GETARG_OID(0);
	if (pg_class_aclcheck(relationId, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relationId)),
				 errhint("Waiting for a table's writers needs SELECT on it.")));

	PG_RETURN_BOOL(WaitForSourceWriters(relationId, sequenceId, startedBefore, maxWaitMs));
}
