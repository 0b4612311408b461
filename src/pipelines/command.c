/*-------------------------------------------------------------------------
 *
 * command.c
 *	  Validating a pipeline's command, and running pipeline work as the
 *	  pipeline's owner.
 *
 * A command is checked once, when the pipeline is created: it must be one
 * statement that parses and analyses with the parameter types of its
 * pipeline kind.  Checking it then, rather than at the first run, turns
 * typos into errors the user sees immediately, and guarantees the
 * scheduler never feeds the executor several statements.
 *
 * All of a pipeline's work - reading the range, waiting for writers,
 * running the command and the list function - happens as the pipeline's
 * owner, whoever triggered it, in a security-restricted operation (as
 * REFRESH MATERIALIZED VIEW does).  Every step that resolves names (the
 * command, the list function) runs with the search_path captured when the
 * pipeline was created.  Settings the command changes are rolled back
 * when the work ends, so nothing leaks into the caller or into the next
 * pipeline a scheduler worker runs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pipelines/command.h"
#include "pipelines/command_cache.h"

static void CommandErrorCallback(void *command);
static void CheckCommandCanRunInBatch(Node *statement);
static const char *StatementNeedingOwnTransaction(Node *statement);
static const char *SessionStateStatement(Node *statement);
static bool HasTrueOption(List *options, const char *name);


/*
 * ValidatePipelineCommand checks that a command is a single statement that
 * can run with the given parameter types.  It raises an error otherwise.
 */
void
ValidatePipelineCommand(const char *command, int nargs, Oid *argtypes)
{
	ErrorContextCallback errorCallback = {
		.callback = CommandErrorCallback,
		.arg = unconstify(char *, command),
		.previous = error_context_stack,
	};
	List	   *rawStatements;
	RawStmt    *rawStatement;

	error_context_stack = &errorCallback;
	rawStatements = raw_parser(command, RAW_PARSE_DEFAULT);

	if (rawStatements == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the command of a pipeline cannot be empty"),
				 errhint("Pass one SQL statement that uses $1 and $2.")));

	if (list_length(rawStatements) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the command of a pipeline must be a single SQL statement"),
				 errdetail("The command contains %d statements.", list_length(rawStatements)),
				 errhint("Put the statements in a function or procedure and call it from the command.")));

	rawStatement = linitial_node(RawStmt, rawStatements);
	if (IsA(rawStatement->stmt, TransactionStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the command of a pipeline cannot control transactions"),
				 errdetail("The command runs in the transaction that records the pipeline's progress.")));

	CheckCommandCanRunInBatch(rawStatement->stmt);

	/* parse analysis resolves every name and checks every use of $n */
	(void) pg_analyze_and_rewrite_fixedparams(rawStatement, command, argtypes, nargs, NULL);

	error_context_stack = errorCallback.previous;
}


/*
 * CheckCommandCanRunInBatch refuses, when the pipeline is created rather
 * than at its first run, the statements that could never succeed as a
 * pipeline's command: those that refuse to run inside a transaction block
 * (a batch is one), those that talk to the client, and those that a
 * security-restricted operation refuses.
 */
static void
CheckCommandCanRunInBatch(Node *statement)
{
	const char *commandName = StatementNeedingOwnTransaction(statement);

	if (commandName != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be the command of a pipeline", commandName),
				 errdetail("A pipeline's command runs in the transaction that records its progress, "
						   "and %s cannot run inside a transaction block.", commandName),
				 errhint("Run it on a schedule of its own, for instance as a pg_cron job.")));

	if (IsA(statement, CopyStmt) && ((CopyStmt *) statement)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("COPY %s cannot be the command of a pipeline",
						((CopyStmt *) statement)->is_from ? "FROM STDIN" : "TO STDOUT"),
				 errdetail("A pipeline's command runs with no client to exchange data with."),
				 errhint("Copy from or to a file or a program, or use INSERT ... SELECT.")));

	if ((commandName = SessionStateStatement(statement)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be the command of a pipeline", commandName),
				 errdetail("A pipeline's command runs as a security-restricted operation, which "
						   "may not change the state of the session.")));
}


/*
 * SessionStateStatement returns the name of the command when the statement
 * is one that a security-restricted operation refuses because it changes
 * the session (CheckRestrictedOperation in utility.c), or NULL.
 */
static const char *
SessionStateStatement(Node *statement)
{
	switch (nodeTag(statement))
	{
		case T_ListenStmt:
			return "LISTEN";
		case T_UnlistenStmt:
			return "UNLISTEN";
		case T_DiscardStmt:
			return "DISCARD";
		case T_PrepareStmt:
			return "PREPARE";
		case T_DeallocateStmt:
			return "DEALLOCATE";
		case T_ClosePortalStmt:
			return "CLOSE";
		default:
			return NULL;
	}
}


/*
 * StatementNeedingOwnTransaction returns the name of the command when the
 * statement is one that PostgreSQL refuses to run inside a transaction
 * block (PreventInTransactionBlock), or NULL.
 */
static const char *
StatementNeedingOwnTransaction(Node *statement)
{
	switch (nodeTag(statement))
	{
		case T_VacuumStmt:
			return ((VacuumStmt *) statement)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_IndexStmt:
			return ((IndexStmt *) statement)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) statement)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *reindex = (ReindexStmt *) statement;

				if (HasTrueOption(reindex->params, "concurrently"))
					return "REINDEX CONCURRENTLY";
				if (reindex->kind == REINDEX_OBJECT_SCHEMA)
					return "REINDEX SCHEMA";
				if (reindex->kind == REINDEX_OBJECT_SYSTEM)
					return "REINDEX SYSTEM";
				if (reindex->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				return NULL;
			}
		case T_ClusterStmt:
			return ((ClusterStmt *) statement)->relation == NULL ? "CLUSTER" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterDatabaseStmt:
			{
				ListCell   *cell;

				foreach(cell, ((AlterDatabaseStmt *) statement)->options)
				{
					if (strcmp(((DefElem *) lfirst(cell))->defname, "tablespace") == 0)
						return "ALTER DATABASE SET TABLESPACE";
				}
				return NULL;
			}
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_CreateSubscriptionStmt:
			return "CREATE SUBSCRIPTION";
		case T_DropSubscriptionStmt:
			return "DROP SUBSCRIPTION";
		default:
			return NULL;
	}
}


/* HasTrueOption: the option is present and not explicitly false */
static bool
HasTrueOption(List *options, const char *name)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *option = lfirst(cell);

		if (strcmp(option->defname, name) == 0)
			return defGetBoolean(option);
	}
	return false;
}


/*
 * CommandErrorCallback makes an error position point into the command
 * rather than into the statement that created the pipeline.
 */
static void
CommandErrorCallback(void *command)
{
	int			position = geterrposition();

	if (position > 0)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery((const char *) command);
	}
	errcontext("pipeline command");
}


/*
 * CheckPipelineOwner raises an error when the role that owns a pipeline no
 * longer exists: a role drop does not know about pipelines.
 */
void
CheckPipelineOwner(const Pipeline *pipeline)
{
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(pipeline->ownerId)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner of pipeline \"%s\" no longer exists", pipeline->name),
				 errdetail("The role that created it was dropped."),
				 errhint("Drop the pipeline and create it again as another role.")));
}


/*
 * SwitchToPipelineOwner makes the pipeline's owner the current user, in a
 * security-restricted operation, as REFRESH MATERIALIZED VIEW does for a
 * view's owner: the owner's code cannot change the session's identity or
 * create temporary tables.  Every setting changed until
 * RestoreFromPipelineOwner is undone then.
 */
void
SwitchToPipelineOwner(const Pipeline *pipeline, OwnerSwitch *ownerSwitch)
{
	CheckPipelineOwner(pipeline);

	GetUserIdAndSecContext(&ownerSwitch->savedUserId, &ownerSwitch->savedSecurityContext);
	SetUserIdAndSecContext(pipeline->ownerId,
						   ownerSwitch->savedSecurityContext |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	ownerSwitch->gucNestLevel = NewGUCNestLevel();
}


/*
 * SetForPipeline sets a setting until RestoreFromPipelineOwner, unless the
 * session already has that very text: the same search_path text names the
 * same schemas for the same current role, and the same zone name is the
 * same zone.  Setting it anyway would make the next name lookup and the
 * plan cache's check compute the search path again, and the restore visit
 * every setting.
 */
static void
SetForPipeline(const char *name, const char *value)
{
	const char *current = GetConfigOption(name, false, false);

	if (current != NULL && strcmp(current, value) == 0)
		return;

	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}


/*
 * UsePipelineSearchPath sets the pipeline's search_path until
 * RestoreFromPipelineOwner.  It is called just before the first step that
 * resolves names (the command, the list function) rather than in
 * SwitchToPipelineOwner: reading the progress and waiting for writers go
 * by OID, and a batch that changes no setting spares
 * RestoreFromPipelineOwner a visit to every setting, most of the cost of a
 * run that finds nothing to do.
 */
void
UsePipelineSearchPath(const Pipeline *pipeline)
{
	if (pipeline->searchPath != NULL)
		SetForPipeline("search_path", pipeline->searchPath);
}


/* SetPipelineTimeZone sets TimeZone until RestoreFromPipelineOwner */
void
SetPipelineTimeZone(const char *timeZone)
{
	SetForPipeline("TimeZone", timeZone);
}


void
RestoreFromPipelineOwner(OwnerSwitch *ownerSwitch)
{
	/* false: also undo what the command itself SET */
	AtEOXact_GUC(false, ownerSwitch->gucNestLevel);
	SetUserIdAndSecContext(ownerSwitch->savedUserId, ownerSwitch->savedSecurityContext);
}


/*
 * ExecutePipelineCommand runs the pipeline's command with the given
 * parameters and returns the number of rows it processed.
 */
uint64
ExecutePipelineCommand(const Pipeline *pipeline, int nargs, Oid *argtypes, Datum *values)
{
	int			spiResult;
	uint64		rowCount;

	UsePipelineSearchPath(pipeline);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	spiResult = ExecuteCachedCommand(pipeline, nargs, argtypes, values);
	if (spiResult < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the command of pipeline \"%s\" failed: %s",
						pipeline->name, SPI_result_code_string(spiResult))));

	rowCount = SPI_processed;
	SPI_finish();

	return rowCount;
}
