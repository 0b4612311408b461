/*-------------------------------------------------------------------------
 *
 * pipeline_alter.c
 *	  incremental.alter_pipeline() and rename_pipeline(): change a pipeline's
 *	  schedule, command, batch size, minimum delay or name without dropping
 *	  it.
 *
 * Each change is checked as creation checks it, under the pipeline's
 * lock: a run in progress finishes with what it had, and the next batch
 * uses the new settings.  Progress and history are kept.  A continuous
 * view's command is generated from its query and cannot be changed here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "catalog/catalog_version.h"
#include "catalog/continuous_view_catalog.h"
#include "catalog/pipeline_catalog.h"
#include "catalog/stream_catalog.h"
#include "common/relation_name.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_alter.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/pipeline_create.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_alter_pipeline);
PG_FUNCTION_INFO_V1(incremental_rename_pipeline);

static void CheckNewCommand(const Pipeline *pipeline, const char *command);
static void RefuseForKind(const Pipeline *pipeline, const char *setting, const char *kinds);


/*
 * incremental.alter_pipeline(pipeline_name, schedule, command,
 *		max_batch_size, min_delay, max_consecutive_failures, depends_on):
 *		NULL keeps a setting as it is
 */
Datum
incremental_alter_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName;
	Pipeline   *pipeline;
	char	   *schedule = NULL;
	char	   *command = NULL;

	CheckInstalledVersion();
	pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	if (PG_ARGISNULL(1) && PG_ARGISNULL(2) && PG_ARGISNULL(3) && PG_ARGISNULL(4) &&
		PG_ARGISNULL(5) && (PG_NARGS() <= 6 || PG_ARGISNULL(6)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alter_pipeline was given nothing to change"),
				 errhint("Pass schedule, command, max_batch_size, min_delay, "
						 "max_consecutive_failures or depends_on by name.")));

	pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_ALTER);

	if (!PG_ARGISNULL(1))
	{
		schedule = text_to_cstring(PG_GETARG_TEXT_PP(1));
		CheckPipelineSchedule(schedule);
	}

	if (!PG_ARGISNULL(2))
	{
		command = text_to_cstring(PG_GETARG_TEXT_PP(2));
		if (OidIsValid(ContinuousViewOfPipeline(pipelineName)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the command of pipeline \"%s\" is generated for a continuous view",
							pipelineName),
					 errhint("Drop the view and create it again with the new query.")));
		if (OidIsValid(StreamOfPipeline(pipelineName)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the command of pipeline \"%s\" is generated for a table's retention",
							pipelineName),
					 errhint("Change the retention with incremental.set_retention.")));
		CheckNewCommand(pipeline, command);
	}

	if (!PG_ARGISNULL(3))
	{
		int64		maxBatchSize = PG_GETARG_INT64(3);

		if (pipeline->type == PIPELINE_TYPE_SEQUENCE)
		{
			if (maxBatchSize < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("max_batch_size must not be negative"),
						 errhint("Pass 0 to process all new values in one batch.")));
			UpdateSequenceMaxBatchSize(pipelineName, maxBatchSize);
		}
		else if (pipeline->type == PIPELINE_TYPE_FILE_LIST)
		{
			if (maxBatchSize <= 0 || maxBatchSize > PG_INT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("max_batch_size of a file list pipeline must be between 1 and %d",
								PG_INT32_MAX)));
			UpdateFileListMaxBatchSize(pipelineName, (int32) maxBatchSize);
		}
		else
			RefuseForKind(pipeline, "max_batch_size", "sequence and file list pipelines");
	}

	if (!PG_ARGISNULL(4))
	{
		Interval   *minDelay = PG_GETARG_INTERVAL_P(4);

		if (pipeline->type != PIPELINE_TYPE_TIME_INTERVAL)
			RefuseForKind(pipeline, "min_delay", "time interval pipelines");
		if (DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(minDelay),
											 IntervalPGetDatum(palloc0(sizeof(Interval))))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("min_delay must not be negative")));
		UpdateTimeIntervalMinDelay(pipelineName, minDelay);
	}

	if (!PG_ARGISNULL(5))
	{
		int32		limit = PG_GETARG_INT32(5);

		if (limit < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_consecutive_failures must not be negative"),
					 errhint("Pass 0 to never pause the pipeline after failures.")));
		UpdatePipelineMaxConsecutiveFailures(pipelineName, limit);
	}

	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
		SetPipelineDependsOn(pipeline, PG_GETARG_ARRAYTYPE_P(6));

	if (command != NULL || schedule != NULL)
		UpdatePipelineDefinition(pipelineName, command, schedule != NULL, schedule);

	/* in pg_cron mode the job follows the new schedule */
	if (schedule != NULL)
	{
		pipeline->schedule = schedule;
		FirePipelineEvent(PIPELINE_EVENT_SCHEDULE_CHANGED, pipeline);
	}

	PG_RETURN_VOID();
}


/*
 * ReplaceGeneratedCommand gives a pipeline whose command a layer above
 * generates (a continuous view's) a new command, under the pipeline's lock
 * and with the caller's right to alter it checked: a batch in progress
 * finishes first, and every later batch reads the new command.
 */
void
ReplaceGeneratedCommand(const char *pipelineName, const char *command)
{
	(void) LockAndReadPipeline(pipelineName, PIPELINE_ACTION_ALTER);
	UpdatePipelineDefinition(pipelineName, command, false, NULL);
}


/*
 * incremental.rename_pipeline(pipeline_name, new_name): the progress,
 * history and processed files follow the name; so does a pg_cron job's
 * name.  Both names' locks are held, so no run of the old name and no
 * creation of the new one happens meanwhile.
 */
Datum
incremental_rename_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName;
	char	   *newName;
	Pipeline   *pipeline;
	Oid			viewId;

	CheckInstalledVersion();
	pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	newName = GetTextArgument(fcinfo, 1, "new_name");

	if (newName[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_name cannot be empty")));
	if (strlen(newName) > MAX_PIPELINE_NAME_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("pipeline name is too long"),
				 errdetail("The name is %zu bytes long; pipeline names are at most %d bytes.",
						   strlen(newName), MAX_PIPELINE_NAME_BYTES),
				 errhint("Choose a shorter name.")));

	pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_ALTER);

	/* the view's query and its expiry name the pipeline */
	viewId = ContinuousViewOfPipeline(pipelineName);
	if (OidIsValid(viewId))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pipeline \"%s\" keeps continuous view %s up to date and cannot be renamed",
						pipelineName, QualifiedRelationName(viewId)),
				 errhint("Rename the view instead: its pipeline keeps its name, which does no harm.")));

	if (OidIsValid(StreamOfPipeline(pipelineName)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pipeline \"%s\" keeps the retention of table %s and cannot be renamed",
						pipelineName, QualifiedRelationName(StreamOfPipeline(pipelineName))),
				 errhint("Its command names it; renaming the table leaves it working.")));

	if (strcmp(pipelineName, newName) == 0)
		PG_RETURN_VOID();

	(void) LockPipeline(newName, false);
	if (ReadPipeline(newName, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pipeline \"%s\" already exists", newName),
				 errhint("Choose another name.")));

	RenamePipeline(pipelineName, newName);
	pipeline->name = newName;
	FirePipelineEvent(PIPELINE_EVENT_RENAMED, pipeline);

	PG_RETURN_VOID();
}


/*
 * A new command is checked as creation checks one, with the parameters of
 * the pipeline's kind, as the pipeline's owner with its search_path: names
 * resolve as they will at a run, and a superuser altering another role's
 * pipeline does not resolve them in that role's schemas with a superuser's
 * rights.
 */
static void
CheckNewCommand(const Pipeline *pipeline, const char *command)
{
	Oid			argtypes[2];
	int			nargs = 2;
	OwnerSwitch ownerSwitch;

	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			argtypes[0] = argtypes[1] = INT8OID;
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			argtypes[0] = argtypes[1] = TIMESTAMPTZOID;
			break;
		case PIPELINE_TYPE_FILE_LIST:
			nargs = 1;
			argtypes[0] = ReadFileListPipelineState(pipeline->name)->batched ?
				TEXTARRAYOID : TEXTOID;
			break;
	}

	SwitchToPipelineOwner(pipeline, &ownerSwitch);
	UsePipelineSearchPath(pipeline);
	ValidatePipelineCommand(command, nargs, argtypes);
	RestoreFromPipelineOwner(&ownerSwitch);
}


static void
RefuseForKind(const Pipeline *pipeline, const char *setting, const char *kinds)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("pipeline \"%s\" has no %s", pipeline->name, setting),
			 errdetail("Only %s have one.", kinds)));
}
