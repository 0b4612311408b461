/*-------------------------------------------------------------------------
 *
 * worker_xact.c
 *	  How every transaction of a per-database worker begins and ends.
 *
 * A worker is a long-lived session, so the things a client session gets
 * for free per statement have to be done by hand here:
 *
 *	 - the statement start time is set before the transaction starts, so
 *	   now() is fresh (time interval pipelines compute ranges from it);
 *	 - the transaction is READ COMMITTED whatever default_transaction_
 *	   isolation says: a pipeline waits for the writers of its source and
 *	   must then see what they committed;
 *	 - the extension is locked for the transaction, the way Citus does, so
 *	   a concurrent DROP EXTENSION waits for the transaction instead of
 *	   pulling the tables out from under it;
 *	 - statement_timeout (the session's: postgresql.conf, ALTER DATABASE
 *	   and ALTER ROLE ... SET) is armed for the transaction, as a client
 *	   backend arms it for each statement: nothing arms it in a background
 *	   worker otherwise, so a command that hangs would hold the worker, and
 *	   every other pipeline of its role, forever;
 *	 - after commit, table statistics are reported, or autovacuum never
 *	   hears of the rows that pipelines write.
 *
 * Commit always happens before the worker sleeps: an idle worker holds no
 * snapshot and no xmin.  The commit also returns to the memory context the
 * transaction began in (a commit leaves CurrentMemoryContext at the top
 * context), so that the worker's loop allocates where it resets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "catalog/catalog_version.h"
#include "scheduler/worker_xact.h"

static bool LockIncrementalExtension(void);

/* Where the caller of BeginWorkerTransaction was allocating */
static MemoryContext callerContext = NULL;

/*
 * Starts a transaction with an active snapshot.  Returns false when the
 * extension is not (or no longer, or not yet) installed; the transaction
 * is open either way and must be committed.
 */
bool
BeginWorkerTransaction(void)
{
	callerContext = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactIsoLevel = XACT_READ_COMMITTED;
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	PushActiveSnapshot(GetTransactionSnapshot());

	return LockIncrementalExtension();
}

void
CommitWorkerTransaction(void)
{
	/*
	 * A security-restricted operation may still create temporary functions.
	 * One pipeline's must not outlive its transaction, where the owner's
	 * other pipelines could call it by mistake; the check is free until one
	 * exists.
	 */
	ResetTempTableNamespace();

	/* disarmed before commit: a timeout must not fire between transactions */
	if (get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
	if (ActiveSnapshotSet())
		PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);

	if (callerContext != NULL)
		MemoryContextSwitchTo(callerContext);
	callerContext = NULL;
}

/*
 * Takes a share lock on the extension and checks that it still exists:
 * DROP EXTENSION takes the same object's lock exclusively.  An extension
 * that is being created in this very transaction does not count, and
 * neither does any during a binary upgrade.
 */
static bool
LockIncrementalExtension(void)
{
	Oid			extensionId;

	if (IsBinaryUpgrade)
		return false;

	extensionId = IncrementalExtensionId();
	if (!OidIsValid(extensionId))
		return false;

	LockDatabaseObject(ExtensionRelationId, extensionId, 0, AccessShareLock);

	/* the drop may have committed while we waited for the lock */
	if (IncrementalExtensionId() != extensionId)
		return false;

	if (creating_extension && CurrentExtensionObject == extensionId)
		return false;

	/* an older catalog waits for ALTER EXTENSION ... UPDATE, which wakes us */
	return InstalledVersionMatchesLibrary();
}
