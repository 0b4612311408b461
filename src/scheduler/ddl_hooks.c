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
 * database's worker before the command runs and blocks the launcher from
 * starting a new one.  Once the command is done the block is lifted; from
 * then on the database lock the command holds until commit keeps a new
 * worker waiting at connection, where it counts as no one.  A dropped
 * database stays blocked until the block expires; by then it is gone.
 *
 * CREATE EXTENSION pg_incremental, ALTER EXTENSION pg_incremental UPDATE
 * and CREATE DATABASE ask for a wakeup at commit, so that the new database
 * or extension (or updated catalog) is served in seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "scheduler/commit_wakeup.h"
#include "scheduler/ddl_hooks.h"
#include "scheduler/shmem.h"

/*
 * How long the launcher leaves a database alone while DDL runs on it.  It
 * only needs to cover the time until the command holds the database's
 * lock; a failed command lifts the block at once.
 */
#define DDL_BLOCK_MS (30 * 1000)

static ProcessUtility_hook_type previousProcessUtilityHook = NULL;

static void IncrementalProcessUtility(PlannedStmt *plannedStatement, const char *queryString,
									  bool readOnlyTree, ProcessUtilityContext context,
									  ParamListInfo params, QueryEnvironment *queryEnv,
									  DestReceiver *dest, QueryCompletion *completion);
static Oid	DatabaseNeedingNoWorker(Node *statement);
static Oid	DatabaseOfOption(List *options, const char *optionName);

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

	if (IsA(statement, CreatedbStmt))
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
		StopDatabaseWorker(databaseId, DDL_BLOCK_MS);

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
			UnblockDatabaseWorker(databaseId);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (OidIsValid(databaseId) && !keepBlocked)
		UnblockDatabaseWorker(databaseId);
}

/* The database that the statement needs free of other sessions, or InvalidOid */
static Oid
DatabaseNeedingNoWorker(Node *statement)
{
	switch (nodeTag(statement))
	{
		case T_DropdbStmt:
			return get_database_oid(((DropdbStmt *) statement)->dbname, true);

		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) statement;

				if (rename->renameType == OBJECT_DATABASE)
					return get_database_oid(rename->subname, true);
				return InvalidOid;
			}

		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *alter = (AlterDatabaseStmt *) statement;
				ListCell   *cell;

				foreach(cell, alter->options)
				{
					if (strcmp(((DefElem *) lfirst(cell))->defname, "tablespace") == 0)
						return get_database_oid(alter->dbname, true);
				}
				return InvalidOid;
			}

		case T_CreatedbStmt:
			return DatabaseOfOption(((CreatedbStmt *) statement)->options, "template");

		default:
			return InvalidOid;
	}
}

static Oid
DatabaseOfOption(List *options, const char *optionName)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *option = lfirst(cell);

		if (strcmp(option->defname, optionName) == 0 && option->arg != NULL)
			return get_database_oid(defGetString(option), true);
	}
	return InvalidOid;
}
