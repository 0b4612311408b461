/*-------------------------------------------------------------------------
 *
 * cv_ddl.c
 *	  CREATE VIEW ... WITH (incremental.continuous [, incremental.option =
 *	  value ...]) AS SELECT ...: a ProcessUtility hook that creates a
 *	  continuous view, as incremental.create_continuous_view() does.
 *
 * Other views pass through untouched.  The hook exists in every session
 * that loaded the library (through shared_preload_libraries, or by
 * calling one of the extension's functions); elsewhere PostgreSQL itself
 * rejects the unknown option namespace, and the function still works.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog/catalog_version.h"
#include "catalog/continuous_view_catalog.h"
#include "common/relation_name.h"
#include "continuous_views/cv_create.h"
#include "continuous_views/cv_ddl.h"
#include "pipelines/sequence.h"

#define OPTION_NAMESPACE "incremental"

static ProcessUtility_hook_type previousProcessUtilityHook = NULL;

static void ContinuousViewProcessUtility(PlannedStmt *plannedStatement,
										 const char *queryString, bool readOnlyTree,
										 ProcessUtilityContext context, ParamListInfo params,
										 QueryEnvironment *queryEnv, DestReceiver *dest,
										 QueryCompletion *completion);
static bool HasIncrementalOption(ViewStmt *statement);
static Interval *IntervalOption(DefElem *option);
static void RefuseRenamesUnderContinuousViews(Node *statement);
static void RefuseForRelation(RangeVar *relation, const char *action);
static void ParseViewOptions(ViewStmt *statement, ContinuousViewOptions *options);


void
InstallContinuousViewHooks(void)
{
	previousProcessUtilityHook = ProcessUtility_hook;
	ProcessUtility_hook = ContinuousViewProcessUtility;
}


static void
ContinuousViewProcessUtility(PlannedStmt *plannedStatement, const char *queryString,
							 bool readOnlyTree, ProcessUtilityContext context,
							 ParamListInfo params, QueryEnvironment *queryEnv,
							 DestReceiver *dest, QueryCompletion *completion)
{
	Node	   *statement = plannedStatement->utilityStmt;

	if (IsA(statement, ViewStmt) && HasIncrementalOption((ViewStmt *) statement))
	{
		ViewStmt   *view = (ViewStmt *) statement;
		ContinuousViewOptions options = {0};
		RawStmt    *rawQuery = makeNode(RawStmt);
		Query	   *query;

		if (readOnlyTree)
			view = copyObject(view);

		ParseViewOptions(view, &options);
		if (view->replace)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("CREATE OR REPLACE cannot create a continuous view"),
					 errhint("Drop the view first, or create it without OR REPLACE.")));
		if (view->withCheckOption != NO_CHECK_OPTION)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view cannot have WITH CHECK OPTION"),
					 errdetail("Continuous views cannot be written to.")));

		rawQuery->stmt = view->query;
		rawQuery->stmt_location = plannedStatement->stmt_location;
		rawQuery->stmt_len = plannedStatement->stmt_len;
		query = parse_analyze_fixedparams(rawQuery, queryString, NULL, 0, queryEnv);

		(void) CreateContinuousView(view->view, view->aliases, query, queryString, &options);
		return;
	}

	RefuseRenamesUnderContinuousViews(statement);

	if (previousProcessUtilityHook != NULL)
		previousProcessUtilityHook(plannedStatement, queryString, readOnlyTree, context,
								   params, queryEnv, dest, completion);
	else
		standard_ProcessUtility(plannedStatement, queryString, readOnlyTree, context,
								params, queryEnv, dest, completion);
}


/*
 * A continuous view's pipeline names its tables and columns in its command
 * text: renaming them or moving them to another schema would make every
 * later batch fail.  (Renaming the view itself is fine: nothing refers to
 * its name.  Dropping a column the view reads, or changing its type, is
 * refused by PostgreSQL itself: cv_dependencies.c records the view's rule
 * on those columns.)
 */
static void
RefuseRenamesUnderContinuousViews(Node *statement)
{
	if (IsA(statement, RenameStmt))
	{
		RenameStmt *rename = (RenameStmt *) statement;

		if (rename->relation != NULL &&
			(rename->renameType == OBJECT_TABLE || rename->renameType == OBJECT_VIEW ||
			 rename->renameType == OBJECT_MATVIEW || rename->renameType == OBJECT_FOREIGN_TABLE ||
			 rename->renameType == OBJECT_COLUMN))
			RefuseForRelation(rename->relation,
							  rename->renameType == OBJECT_COLUMN ? "rename a column of" :
							  "rename");
	}
	else if (IsA(statement, AlterObjectSchemaStmt))
	{
		AlterObjectSchemaStmt *move = (AlterObjectSchemaStmt *) statement;

		if (move->relation != NULL)
			RefuseForRelation(move->relation, "move");
	}
}


static void
RefuseForRelation(RangeVar *relation, const char *action)
{
	Oid			relationId;
	Oid			viewId;

	if (!InstalledVersionMatchesLibrary())
		return;
	relationId = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relationId))
		return;
	viewId = ContinuousViewUsingRelation(relationId);

	/* the maintenance finds partitioned storage's partitions by name */
	if (!OidIsValid(viewId) && get_rel_relispartition(relationId))
		viewId = ContinuousViewUsingRelation(get_partition_parent(relationId, true));
	if (!OidIsValid(viewId) || viewId == relationId)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot %s %s: continuous view %s reads it by name", action,
					QualifiedRelationName(relationId), QualifiedRelationName(viewId)),
			 errdetail("The batches of a continuous view run a command that names its "
					   "tables and columns."),
			 errhint("Drop the continuous view first, and create it again afterwards.")));
}


/* An option's value as an interval */
static Interval *
IntervalOption(DefElem *option)
{
	return DatumGetIntervalP(DirectFunctionCall3(interval_in,
												 CStringGetDatum(defGetString(option)),
												 ObjectIdGetDatum(InvalidOid),
												 Int32GetDatum(-1)));
}


static bool
HasIncrementalOption(ViewStmt *statement)
{
	ListCell   *cell;

	foreach(cell, statement->options)
	{
		DefElem    *option = lfirst(cell);

		if (option->defnamespace != NULL &&
			strcmp(option->defnamespace, OPTION_NAMESPACE) == 0)
			return true;
	}
	return false;
}


/*
 * The options of a continuous view in WITH (...): incremental.continuous
 * must be on; the others are those of create_continuous_view.
 */
static void
ParseViewOptions(ViewStmt *statement, ContinuousViewOptions *options)
{
	bool		continuous = false;
	ListCell   *cell;

	options->schedule = "* * * * *";

	foreach(cell, statement->options)
	{
		DefElem    *option = lfirst(cell);

		if (option->defnamespace == NULL ||
			strcmp(option->defnamespace, OPTION_NAMESPACE) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a continuous view takes no view option \"%s\"", option->defname),
					 errhint("Options of continuous views are incremental.continuous, "
							 "incremental.schedule, incremental.max_batch_size, "
							 "incremental.realtime, incremental.distinct, incremental.ttl, "
							 "incremental.ttl_column, incremental.sliding_window, "
							 "incremental.sliding_column, incremental.partition_by and "
							 "incremental.partition_duration.")));

		if (strcmp(option->defname, "continuous") == 0)
			continuous = defGetBoolean(option);
		else if (strcmp(option->defname, "schedule") == 0)
		{
			/* = NULL (read as the word "null"): run only when executed by hand */
			options->schedule = defGetString(option);
			if (pg_strcasecmp(options->schedule, "null") == 0)
				options->schedule = NULL;
		}
		else if (strcmp(option->defname, "max_batch_size") == 0)
		{
			options->maxBatchSize = defGetInt64(option);
			if (options->maxBatchSize <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("incremental.max_batch_size must be positive")));
		}
		else if (strcmp(option->defname, "realtime") == 0)
			options->realtime = defGetBoolean(option);
		else if (strcmp(option->defname, "distinct") == 0)
			options->distinctMode = defGetString(option);
		else if (strcmp(option->defname, "ttl") == 0)
			options->ttl = IntervalOption(option);
		else if (strcmp(option->defname, "ttl_column") == 0)
			options->ttlColumn = defGetString(option);
		else if (strcmp(option->defname, "sliding_window") == 0)
			options->slidingWindow = IntervalOption(option);
		else if (strcmp(option->defname, "sliding_column") == 0)
			options->slidingColumn = defGetString(option);
		else if (strcmp(option->defname, "partition_by") == 0)
			options->partitionBy = defGetString(option);
		else if (strcmp(option->defname, "partition_duration") == 0)
			options->partitionDuration = IntervalOption(option);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized option \"incremental.%s\"", option->defname),
					 errhint("Options of continuous views are incremental.continuous, "
							 "incremental.schedule, incremental.max_batch_size, "
							 "incremental.realtime, incremental.distinct, incremental.ttl, "
							 "incremental.ttl_column, incremental.sliding_window, "
							 "incremental.sliding_column, incremental.partition_by and "
							 "incremental.partition_duration.")));
	}

	if (!continuous)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("incremental options need incremental.continuous"),
				 errhint("Write WITH (incremental.continuous, ...) to create a "
						 "continuous view.")));
}
