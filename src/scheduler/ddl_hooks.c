/*-------------------------------------------------------------------------
 *
 * ddl_hooks.c
 *	  Keeping the scheduler out of the way of database-level DDL, and
 *	  noticing CREATE EXTENSION and CREATE DATABASE.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME and ... SET TABLESPACE, and
 * CREATE DATABASE ... TEMPLATE fail when another session is connected to
 * the database concerned, and a worker is such a session.  So, in every
 * backend (the library is preloaded), a ProcessUtility hook stops that
 * database's workers before the command runs and blocks the launcher from
 * starting new ones, provided the command's user may run it (the hook
 * makes the command's own permission checks first).  Once the command is done the block is lifted; from
 * then on the database lock the command holds until commit keeps a new
 * worker waiting at connection, where it counts as no one.  A dropped
 * database stays blocked until the block expires; by then it is gone.
 *
 * CREATE EXTENSION pg_incremental, ALTER EXTENSION pg_incremental UPDATE
 * and CREATE DATABASE ask for a wakeup at commit, so that the new database
 * or extension (or updated catalog) is served in seconds.
 *
 * DROP ROLE, REASSIGN OWNED and DROP OWNED treat pipelines as objects the
 * role owns (role_ddl.c).  The hook is installed whenever the library is
 * loaded; preloaded, it is in every backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"

#include "scheduler/commit_wakeup.h"
#include "scheduler/ddl_hooks.h"
#include "scheduler/role_ddl.h"
#include "scheduler/shmem.h"

/*
 * How long the launcher leaves a database alone while DDL runs on it.  It
 * only needs to cover the time until the command holds the database's
 * lock; a failed command lifts the block at once.
 */
#define DDL_BLOCK_MS (30 * 1000)

/* How long a backend waits for the workers it stopped to exit */
#define STOP_WAIT_MS 10000

static ProcessUtility_hook_type previousProcessUtilityHook = NULL;

static void IncrementalProcessUtility(PlannedStmt *plannedStatement, const char *queryString,
									  bool readOnlyTree, ProcessUtilityContext context,
									  ParamListInfo params, QueryEnvironment *queryEnv,
									  DestReceiver *dest, QueryCompletion *completion);
static void StopDatabaseWorkers(Oid databaseId, int blockMs);
static Oid	DatabaseNeedingNoWorker(Node *statement);
static Oid	TemplateOfCreatedb(CreatedbStmt *statement);
static bool IsDatabaseOwner(Oid databaseId);
static bool MayCreateDatabases(void);
static bool IsTemplateDatabase(Oid databaseId);

void
InstallDdlHooks(void)
{
	previousProcessUtilityHook = ProcessUtility_hook;
	ProcessUtility_hook = IncrementalProcessUtility;
}

static void
IncrementalProcessUtility(PlannedStmt *plannedStatement, const char *queryString,
						  bool readOnlyTree, ProcessUtilityContext context,
						  ParamListInfo params, QueryEnvironment *queryEnv,
						  DestReceiver *dest, QueryCompletion *completion)
{
	Node	   *statement = plannedStatement->utilityStmt;
	Oid			databaseId = DatabaseNeedingNoWorker(statement);

	/* a dropped database stays blocked: it is going away */
	bool		keepBlocked = IsA(statement, DropdbStmt);

	if (IsA(statement, AlterRoleSetStmt) || IsA(statement, AlterDatabaseSetStmt))
		CountSettingsChangeAtCommit();	/* the workers' logins are out of date */
	else if (IsA(statement, CreatedbStmt))
		RequestLauncherWakeAtCommit();
	else if (IsA(statement, CreateExtensionStmt) &&
			 strcmp(((CreateExtensionStmt *) statement)->extname, "pg_incremental") == 0)
		RequestSchedulerWakeAtCommit();
	else if (IsA(statement, AlterExtensionStmt) &&
			 strcmp(((AlterExtensionStmt *) statement)->extname, "pg_incremental") == 0)
		RequestSchedulerWakeAtCommit();	/* an updated catalog can be served */
	else if (IsA(statement, DropStmt) &&
			 ((DropStmt *) statement)->removeType == OBJECT_EXTENSION)
		RequestSchedulerWakeAtCommit();	/* the worker has nothing left to do */

	if (OidIsValid(databaseId))
		StopDatabaseWorkers(databaseId, DDL_BLOCK_MS);

	PG_TRY();
	{
		if (previousProcessUtilityHook != NULL)
			previousProcessUtilityHook(plannedStatement, queryString, readOnlyTree,
									   context, params, queryEnv, dest, completion);
		else
			standard_ProcessUtility(plannedStatement, queryString, readOnlyTree,
									context, params, queryEnv, dest, completion);
	}
	PG_CATCH();
	{
		if (OidIsValid(databaseId))
			UnblockDatabaseWorkers(databaseId);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (OidIsValid(databaseId) && !keepBlocked)
		UnblockDatabaseWorkers(databaseId);

	/* the command checked its user's rights and did its part: now ours */
	if (IsA(statement, ReassignOwnedStmt))
		ReassignPipelinesOwnedBy((ReassignOwnedStmt *) statement);
	else if (IsA(statement, DropOwnedStmt))
		DropPipelinesOwnedByRoles((DropOwnedStmt *) statement);
}

/*
 * StopDatabaseWorkers stops the database's workers and keeps the launcher
 * from starting others for blockMs, so that DROP/ALTER DATABASE and CREATE
 * DATABASE ... TEMPLATE do not find them connected.  It waits for them to
 * exit, STOP_WAIT_MS at most, absorbing interrupts meanwhile; the command
 * itself says so if one is still there.
 */
static void
StopDatabaseWorkers(Oid databaseId, int blockMs)
{
	RunningWorker *workers;
	int			count = BlockDatabaseWorkers(databaseId, blockMs, &workers);
	TimestampTz giveUpAt;

	for (int i = 0; i < count; i++)
	{
		ereport(DEBUG1,
				(errmsg_internal("stopping pg_incremental worker with PID %d", workers[i].pid)));
		kill(workers[i].pid, SIGTERM);
	}

	giveUpAt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STOP_WAIT_MS);
	for (int i = 0; i < count; i++)
	{
		while (WorkerStillRunning(workers[i].identity, workers[i].pid) &&
			   GetCurrentTimestamp() < giveUpAt)
		{
			CHECK_FOR_INTERRUPTS();
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 10, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}

	if (workers != NULL)
		pfree(workers);
}


/*
 * DatabaseNeedingNoWorker returns the database that the statement needs
 * free of other sessions, or InvalidOid.  A worker is only stopped for a
 * statement that its user may run: the checks are those the command itself
 * makes first (dbcommands.c), so that a role without the right cannot stop
 * the workers of a database it has nothing to do with by issuing a command
 * that is bound to fail.
 */
static Oid
DatabaseNeedingNoWorker(Node *statement)
{
	Oid			databaseId = InvalidOid;

	switch (nodeTag(statement))
	{
		case T_DropdbStmt:
			/* dropdb(): must be the owner */
			databaseId = get_database_oid(((DropdbStmt *) statement)->dbname, true);
			return IsDatabaseOwner(databaseId) ? databaseId : InvalidOid;

		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) statement;

				/* RenameDatabase(): must be the owner and may create databases */
				if (rename->renameType != OBJECT_DATABASE)
					return InvalidOid;
				databaseId = get_database_oid(rename->subname, true);
				return IsDatabaseOwner(databaseId) && MayCreateDatabases() ?
					databaseId : InvalidOid;
			}

		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *alter = (AlterDatabaseStmt *) statement;
				ListCell   *cell;

				/* movedb(): must be the owner */
				foreach(cell, alter->options)
				{
					if (strcmp(((DefElem *) lfirst(cell))->defname, "tablespace") == 0)
						databaseId = get_database_oid(alter->dbname, true);
				}
				return IsDatabaseOwner(databaseId) ? databaseId : InvalidOid;
			}

		case T_CreatedbStmt:
			{
				/*
				 * createdb(): may create databases, and a source that is not a
				 * template must be one's own
				 */
				databaseId = TemplateOfCreatedb((CreatedbStmt *) statement);
				if (!OidIsValid(databaseId) || !MayCreateDatabases())
					return InvalidOid;
				return IsTemplateDatabase(databaseId) || IsDatabaseOwner(databaseId) ?
					databaseId : InvalidOid;
			}

		default:
			return InvalidOid;
	}
}


/* The database named by CREATE DATABASE's TEMPLATE option, or InvalidOid */
static Oid
TemplateOfCreatedb(CreatedbStmt *statement)
{
	ListCell   *cell;

	foreach(cell, statement->options)
	{
		DefElem    *option = lfirst(cell);

		if (strcmp(option->defname, "template") == 0 && option->arg != NULL)
			return get_database_oid(defGetString(option), true);
	}
	return InvalidOid;
}


static bool
IsDatabaseOwner(Oid databaseId)
{
	return OidIsValid(databaseId) && pg_database_ownercheck(databaseId, GetUserId());
}


/* As dbcommands.c's have_createdb_privilege(), which PostgreSQL 15 keeps static */
static bool
MayCreateDatabases(void)
{
	HeapTuple	tuple;
	bool		mayCreate;

	if (superuser())
		return true;

	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (!HeapTupleIsValid(tuple))
		return false;
	mayCreate = ((Form_pg_authid) GETSTRUCT(tuple))->rolcreatedb;
	ReleaseSysCache(tuple);

	return mayCreate;
}


static bool
IsTemplateDatabase(Oid databaseId)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(databaseId));
	bool		isTemplate;

	if (!HeapTupleIsValid(tuple))
		return false;
	isTemplate = ((Form_pg_database) GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);

	return isTemplate;
}
