/*-------------------------------------------------------------------------
 *
 * file_list_api.c
 *	  incremental.create_file_list_pipeline() and incremental.skip_file().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "catalog/catalog_version.h"
#include "catalog/pipeline_catalog.h"
#include "pipelines/file_list.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/pipeline_create.h"

PG_FUNCTION_INFO_V1(incremental_create_file_list_pipeline);
PG_FUNCTION_INFO_V1(incremental_skip_file);

/* incremental.default_file_list_function */
char	   *DefaultFileListFunction = NULL;


/*
 * incremental.create_file_list_pipeline(pipeline_name, file_pattern, command,
 *		list_function, batched, max_batch_size, schedule, execute_immediately,
 *		max_batches_per_run)
 */
Datum
incremental_create_file_list_pipeline(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	char	   *command;
	char	   *schedule = NULL;
	bool		executeImmediately;
	Oid			argtype;
	FileListPipelineState settings = {0};
	Pipeline   *pipeline;

	/* 1.3's catalog binds its eight-argument form to this symbol */
	CheckInstalledVersion();

	settings.filePattern = GetTextArgument(fcinfo, 1, "file_pattern");
	command = GetTextArgument(fcinfo, 2, "command");
	if (!PG_ARGISNULL(3))
		settings.listFunction = text_to_cstring(PG_GETARG_TEXT_PP(3));
	CheckArgumentNotNull(fcinfo, 4, "batched");
	settings.batched = PG_GETARG_BOOL(4);
	CheckArgumentNotNull(fcinfo, 5, "max_batch_size");
	settings.maxBatchSize = PG_GETARG_INT32(5);
	if (!PG_ARGISNULL(6))
		schedule = text_to_cstring(PG_GETARG_TEXT_PP(6));
	CheckArgumentNotNull(fcinfo, 7, "execute_immediately");
	executeImmediately = PG_GETARG_BOOL(7);
	settings.maxBatchesPerRun = PG_ARGISNULL(8) ? -1 : PG_GETARG_INT32(8);

	if (settings.maxBatchSize <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_batch_size must be positive")));
	if (settings.maxBatchesPerRun == 0 || settings.maxBatchesPerRun < -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_batches_per_run must be positive, or -1 for no limit")));

	/* recorded by name, as 1.3 did: no later setting changes what runs */
	settings.listFunction = ResolveListFunction(settings.listFunction);

	argtype = settings.batched ? TEXTARRAYOID : TEXTOID;
	pipeline = BeginPipelineCreation(pipelineName, PIPELINE_TYPE_FILE_LIST, InvalidOid,
									 command, schedule, 1, &argtype);
	InsertFileListPipelineState(pipelineName, &settings);
	FinishPipelineCreation(pipeline, executeImmediately);
	SetDependsOnArgument(fcinfo, 9, pipelineName);

	PG_RETURN_VOID();
}


/*
 * incremental.skip_file(pipeline_name text, path text) marks a file as
 * processed, typically one whose command keeps failing.
 */
Datum
incremental_skip_file(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	char	   *path = GetTextArgument(fcinfo, 1, "path");
	Pipeline   *pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_SKIP_FILE);

	if (pipeline->type != PIPELINE_TYPE_FILE_LIST)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("pipeline \"%s\" is not a file list pipeline", pipelineName),
				 errhint("Only file list pipelines process files.")));

	InsertProcessedFiles(pipelineName, list_make1(path));

	PG_RETURN_VOID();
}
