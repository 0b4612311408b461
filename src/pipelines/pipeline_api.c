/*-------------------------------------------------------------------------
 *
 * pipeline_api.c
 *	  The SQL-callable functions common to all pipeline kinds (execute,
 *	  reset, drop) and the steps every create function shares.
 *
 * No function here is STRICT: a NULL argument gets an error that names
 * it, instead of silently doing nothing.  Every function that changes a
 * pipeline first takes the pipeline's lock, so it waits for a run in
 * progress rather than racing it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_run.h"
#include "pipelines/pipeline_util.h"

PG_FUNCTION_INFO_V1(incremental_execute_pipeline);
PG_FUNCTION_INFO_V1(incremental_reset_pipeline);
PG_FUNCTION_INFO_V1(incremental_drop_pipeline);
PG_FUNCTION_INFO_V1(incremental_reset_stats);

pipeline_event_hook_type pipeline_event_hook = NULL;

static void FirePipelineEvent(PipelineEvent event, const Pipeline *pipeline);


/*
 * incremental.execute_pipeline(pipeline_name text) processes everything new.
 * Called outside a transaction block, it commits after each batch.
 */
Datum
incremental_execute_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	CallContext *callContext = (CallContext *) fcinfo->context;
	bool		allowCommit = callContext != NULL && IsA(callContext, CallContext) &&
		!callContext->atomic;

	ExecutePipelineToCompletion(pipelineName, allowCommit);

	PG_RETURN_VOID();
}


/*
 * incremental.reset_pipeline(pipeline_name text, execute_immediately bool)
 * forgets a pipeline's progress, so that everything is processed again.
 */
Datum
incremental_reset_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	bool		executeImmediately;
	Pipeline   *pipeline;

	CheckArgumentNotNull(fcinfo, 1, "execute_immediately");
	executeImmediately = PG_GETARG_BOOL(1);

	pipeline = LockAndReadPipeline(pipelineName, "reset");

	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			ResetSequencePipeline(pipeline);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			ResetTimeIntervalPipeline(pipeline);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			ResetFileListPipeline(pipeline);
			break;
	}

	FirePipelineEvent(PIPELINE_EVENT_RESET, pipeline);

	if (executeImmediately)
		ExecutePipelineToCompletion(pipelineName, false);

	PG_RETURN_VOID();
}


/* incremental.drop_pipeline(pipeline_name text) */
Datum
incremental_drop_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, "drop");

	DeletePipeline(pipelineName);
	FirePipelineEvent(PIPELINE_EVENT_DROPPED, pipeline);

	PG_RETURN_VOID();
}


/*
 * incremental.reset_stats(pipeline_name text) zeroes the counters of a
 * pipeline, or with NULL of every pipeline the caller may manage.  Each
 * pipeline's lock is taken so that a run in progress cannot write counters
 * computed from before the reset.
 */
Datum
incremental_reset_stats(PG_FUNCTION_ARGS)
{
	List	   *pipelines;
	ListCell   *pipelineCell;

	if (!PG_ARGISNULL(0))
	{
		char	   *pipelineName = text_to_cstring(PG_GETARG_TEXT_PP(0));

		(void) LockAndReadPipeline(pipelineName, "reset statistics of");
		ResetPipelineStats(pipelineName);
		PG_RETURN_VOID();
	}

	pipelines = ReadAllPipelines();
	foreach(pipelineCell, pipelines)
	{
		Pipeline   *pipeline = lfirst(pipelineCell);

		if (!has_privs_of_role(GetUserId(), pipeline->ownerId))
			continue;

		(void) LockPipeline(pipeline->name, false);
		ResetPipelineStats(pipeline->name);
	}

	PG_RETURN_VOID();
}


/*
 * BeginPipelineCreation checks what every new pipeline needs, records its
 * row in incremental.pipelines, and returns it.  The pipeline's lock is
 * held from before the check for a duplicate name, so two sessions
 * creating the same pipeline get a clear error rather than a unique
 * violation.
 */
Pipeline *
BeginPipelineCreation(const char *pipelineName, PipelineType type, Oid sourceRelationId,
					  const char *command, const char *schedule, int nargs, Oid *argtypes)
{
	Pipeline   *pipeline;

	if (pipelineName[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline_name cannot be empty")));

	(void) LockPipeline(pipelineName, false);

	if (ReadPipeline(pipelineName, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pipeline \"%s\" already exists", pipelineName),
				 errhint("Choose another name, or drop the existing pipeline with "
						 "incremental.drop_pipeline first.")));

	if (schedule != NULL)
		CheckPipelineSchedule(schedule);
	ValidatePipelineCommand(command, nargs, argtypes);

	pipeline = palloc0(sizeof(Pipeline));
	pipeline->name = pstrdup(pipelineName);
	pipeline->type = type;
	pipeline->ownerId = GetUserId();
	pipeline->sourceRelationId = sourceRelationId;
	pipeline->command = pstrdup(command);
	pipeline->searchPath = GetConfigOptionByName("search_path", NULL, false);
	pipeline->schedule = schedule != NULL ? pstrdup(schedule) : NULL;
	pipeline->paused = false;

	InsertPipeline(pipeline);

	return pipeline;
}


/*
 * FinishPipelineCreation runs once the kind's own rows are in place: it
 * tells the layers above, and processes the existing data if asked to.
 */
void
FinishPipelineCreation(const Pipeline *pipeline, bool executeImmediately)
{
	FirePipelineEvent(PIPELINE_EVENT_CREATED, pipeline);

	if (executeImmediately)
		ExecutePipelineToCompletion(pipeline->name, false);
}


/*
 * LockAndReadPipeline takes the pipeline's lock, reads it, and checks that
 * the current user may perform the action on it.
 */
Pipeline *
LockAndReadPipeline(const char *pipelineName, const char *action)
{
	Pipeline   *pipeline;

	(void) LockPipeline(pipelineName, false);
	pipeline = ReadPipeline(pipelineName, false);
	CheckPipelinePermission(pipeline, action);

	return pipeline;
}


/* Only the owner (or a member of the owning role) and superusers may act */
void
CheckPipelinePermission(const Pipeline *pipeline, const char *action)
{
	if (has_privs_of_role(GetUserId(), pipeline->ownerId))
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s pipeline \"%s\"", action, pipeline->name),
			 errdetail("Only the owner of the pipeline, role \"%s\", or a superuser may %s it.",
					   GetUserNameFromId(pipeline->ownerId, true) ?
					   GetUserNameFromId(pipeline->ownerId, true) : "(dropped)",
					   action)));
}


/* GetTextArgument returns a text argument as a C string; NULL is an error */
char *
GetTextArgument(FunctionCallInfo fcinfo, int argumentNumber, const char *argumentName)
{
	CheckArgumentNotNull(fcinfo, argumentNumber, argumentName);

	return text_to_cstring(PG_GETARG_TEXT_PP(argumentNumber));
}


void
CheckArgumentNotNull(FunctionCallInfo fcinfo, int argumentNumber, const char *argumentName)
{
	if (PG_ARGISNULL(argumentNumber))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", argumentName)));
}


static void
FirePipelineEvent(PipelineEvent event, const Pipeline *pipeline)
{
	if (pipeline_event_hook != NULL)
		pipeline_event_hook(event, pipeline->name, pipeline->schedule);
}
