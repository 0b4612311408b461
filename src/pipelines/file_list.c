/*-------------------------------------------------------------------------
 *
 * file_list.c
 *	  File list pipelines: the command receives a new file ($1 text), or an
 *	  array of up to max_batch_size new files ($1 text[]) when batched.
 *
 * A run calls the pipeline's list function once, as the owner, and then
 * walks the listing in batches, skipping files already recorded in
 * incremental.processed_files.  Each batch checks the catalog again under
 * the pipeline's lock, so files that another session processed or skipped
 * meanwhile are not processed twice.  The listing is deduplicated and
 * NULL paths are ignored, so an odd list function cannot fail a run.
 *
 * The SQL functions that create file list pipelines and skip files are in
 * file_list_api.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"

#include "compat.h"
#include "catalog/pipeline_catalog.h"
#include "pipelines/command.h"
#include "pipelines/file_list.h"
#include "pipelines/pipeline_kinds.h"

/* The files listed at the start of a run, walked batch by batch */
typedef struct FileListing
{
	char	  **paths;
	int			pathCount;
	int			nextPath;
} FileListing;

static Oid	LookupListFunction(const char *functionName);
static char *ListFilesQuery(const char *listFunction);
static FileListing *ListFiles(const Pipeline *pipeline, const FileListPipelineState *settings,
							  MemoryContext runContext);
static List *NextUnprocessedFiles(const Pipeline *pipeline, FileListing *listing,
								  int maxFiles);
static Datum FileBatchArgument(List *paths, bool batched);


/*
 * ResolveListFunction finds a list function by name (NULL: the function
 * that incremental.default_file_list_function names) with the current
 * search_path, checks that the current user may execute it and that it
 * returns a "path" column, and returns its schema-qualified, quoted name.
 * A pipeline records that name when it is created, so what it runs never
 * depends on a setting or a search_path of the moment.
 */
char *
ResolveListFunction(const char *listFunction)
{
	const char *functionName = listFunction != NULL ? listFunction : DefaultFileListFunction;
	Oid			functionId = LookupListFunction(functionName);
	char	   *qualifiedName;

	if (pg_proc_aclcheck(functionId, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for list function %s", functionName),
				 errdetail("The pipeline calls its list function as its owner, the current user."),
				 errhint("Ask the owner of the function for EXECUTE on it, or pass another list_function.")));

	/* the name would mean another session's function later, as pg_temp does */
	if (isAnyTempNamespace(get_func_namespace(functionId)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("list function %s is a temporary function", functionName),
				 errdetail("A pipeline outlives the session, and its list function must too."),
				 errhint("Create the function in a permanent schema.")));

	qualifiedName = quote_qualified_identifier(get_namespace_name(get_func_namespace(functionId)),
											   get_func_name(functionId));
	(void) ListFilesQuery(qualifiedName);

	return qualifiedName;
}


/* LookupListFunction finds name(text), or raises an error */
static Oid
LookupListFunction(const char *functionName)
{
	Oid			argtype = TEXTOID;
	Oid			functionId = InvalidOid;

	if (functionName != NULL && functionName[0] != '\0')
		functionId = LookupFuncName(stringToQualifiedNameList(functionName), 1, &argtype, true);

	if (!OidIsValid(functionId))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("list function \"%s(text)\" does not exist",
						functionName != NULL ? functionName : ""),
				 errhint("Pass list_function, or ask a superuser to set "
						 "incremental.default_file_list_function, to a function that takes "
						 "a pattern and returns a \"path\" column.")));

	return functionId;
}


/*
 * ListFilesQuery returns the query that lists the files with the named
 * list function, checked by parse analysis.  The query names the function
 * by its resolved, quoted name, so a recorded name never becomes SQL.
 */
static char *
ListFilesQuery(const char *listFunction)
{
	Oid			argtype = TEXTOID;
	Oid			functionId = LookupListFunction(listFunction);
	StringInfoData query;

	initStringInfo(&query);
	appendStringInfo(&query,
					 "SELECT DISTINCT files.path::pg_catalog.text FROM %s($1) AS files "
					 "WHERE files.path IS NOT NULL ORDER BY 1",
					 quote_qualified_identifier(get_namespace_name(get_func_namespace(functionId)),
												get_func_name(functionId)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_prepare(query.data, 1, &argtype) == NULL)
		elog(ERROR, "could not prepare the file listing: %s",
			 SPI_result_code_string(SPI_result));
	SPI_finish();

	return query.data;
}


/*
 * ExecuteFileListBatch processes the next max_batch_size (or, unbatched,
 * the next one) files of the run's listing that are not processed yet.
 */
PipelineBatchOutcome
ExecuteFileListBatch(const Pipeline *pipeline, KindRunState *runState, BatchResult *result)
{
	FileListPipelineState *settings = ReadFileListPipelineState(pipeline->name);
	FileListing *listing = runState->state;
	List	   *batch;
	Oid			argtype = settings->batched ? TEXTARRAYOID : TEXTOID;
	Datum		argument;

	if (settings->maxBatchesPerRun > 0 && runState->batchCount >= settings->maxBatchesPerRun)
		return PIPELINE_BATCH_NO_WORK;

	if (listing == NULL)
	{
		/* the list function is found by name */
		UsePipelineSearchPath(pipeline);
		listing = ListFiles(pipeline, settings, runState->runContext);
		runState->state = listing;
	}

	batch = NextUnprocessedFiles(pipeline, listing, settings->batched ? settings->maxBatchSize : 1);
	if (batch == NIL)
	{
		ereport(DEBUG1, (errmsg_internal("pipeline \"%s\": no new files", pipeline->name)));
		return PIPELINE_BATCH_NO_WORK;
	}

	if (settings->batched)
		ereport(NOTICE,
				(errmsg_plural("pipeline \"%s\": processing %d file",
							   "pipeline \"%s\": processing %d files",
							   list_length(batch), pipeline->name, list_length(batch))));
	else
		ereport(NOTICE,
				(errmsg("pipeline \"%s\": processing file %s", pipeline->name,
						(char *) linitial(batch))));

	argument = FileBatchArgument(batch, settings->batched);
	result->rowsProcessed = ExecutePipelineCommand(pipeline, 1, &argtype, &argument);
	result->itemsProcessed = list_length(batch);
	result->rangeStart = linitial(batch);
	result->rangeEnd = llast(batch);

	InsertProcessedFiles(pipeline->name, batch);

	if (listing->nextPath >= listing->pathCount ||
		(settings->maxBatchesPerRun > 0 && runState->batchCount + 1 >= settings->maxBatchesPerRun))
		return PIPELINE_BATCH_DONE;

	return PIPELINE_BATCH_MORE;
}


/*
 * PreviewFileListBatches lists the files as a run would, with the list
 * function running as the pipeline's owner, and groups those not processed
 * yet into the run's batches.
 */
List *
PreviewFileListBatches(const Pipeline *pipeline, int maxBatches)
{
	FileListPipelineState *settings = ReadFileListPipelineState(pipeline->name);
	List	   *batches = NIL;
	FileListing *listing;
	OwnerSwitch ownerSwitch;

	if (settings->maxBatchesPerRun > 0)
		maxBatches = Min(maxBatches, settings->maxBatchesPerRun);

	SwitchToPipelineOwner(pipeline, &ownerSwitch);
	UsePipelineSearchPath(pipeline);
	listing = ListFiles(pipeline, settings, CurrentMemoryContext);
	RestoreFromPipelineOwner(&ownerSwitch);

	while (list_length(batches) < maxBatches)
	{
		List	   *paths = NextUnprocessedFiles(pipeline, listing,
												 settings->batched ? settings->maxBatchSize : 1);
		BatchPreview *batch;

		if (paths == NIL)
			break;
		batch = palloc0(sizeof(BatchPreview));
		batch->first = linitial(paths);
		batch->last = llast(paths);
		batch->items = list_length(paths);
		batch->arguments = list_make1(settings->batched ?
									  OidOutputFunctionCall(F_ARRAY_OUT, FileBatchArgument(paths, true)) :
									  (char *) linitial(paths));
		batches = lappend(batches, batch);
	}
	return batches;
}


/*
 * ListFiles runs the list function and keeps, for the run, the files it
 * returned that the pipeline had not processed yet: one index probe per
 * listed file, in one pass over incremental.processed_files, so that a
 * long listing costs little and can be cancelled.
 */
static FileListing *
ListFiles(const Pipeline *pipeline, const FileListPipelineState *settings,
		  MemoryContext runContext)
{
	char	   *query = ListFilesQuery(settings->listFunction);
	Oid			argtype = TEXTOID;
	Datum		pattern = CStringGetTextDatum(settings->filePattern);
	FileListing *listing = MemoryContextAllocZero(runContext, sizeof(FileListing));
	int			spiResult;
	MemoryContext spiContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	spiResult = SPI_execute_with_args(query, 1, &argtype, &pattern, NULL, false, 0);
	if (spiResult != SPI_OK_SELECT)
		elog(ERROR, "listing files failed: %s", SPI_result_code_string(spiResult));

	listing->pathCount = (int) SPI_processed;
	listing->paths = MemoryContextAllocHuge(runContext,
											Max(listing->pathCount, 1) * sizeof(char *));
	spiContext = MemoryContextSwitchTo(runContext);
	for (int i = 0; i < listing->pathCount; i++)
	{
		bool		isNull;
		Datum		path = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1,
										 &isNull);

		CHECK_FOR_INTERRUPTS();
		listing->paths[i] = TextDatumGetCString(path);
	}
	MemoryContextSwitchTo(spiContext);

	SPI_finish();

	listing->pathCount = KeepUnprocessedFiles(pipeline->name, listing->paths,
											  listing->pathCount);
	return listing;
}


/*
 * NextUnprocessedFiles takes the next maxFiles paths of the listing and
 * checks them again, under the pipeline's lock: a concurrent run or
 * skip_file may have processed some since the listing.
 */
static List *
NextUnprocessedFiles(const Pipeline *pipeline, FileListing *listing, int maxFiles)
{
	List	   *batch = NIL;

	while (listing->nextPath < listing->pathCount && list_length(batch) < maxFiles)
	{
		int			candidates = Min(maxFiles - list_length(batch),
									 listing->pathCount - listing->nextPath);
		char	  **paths = palloc(candidates * sizeof(char *));
		int			unprocessed;

		memcpy(paths, &listing->paths[listing->nextPath], candidates * sizeof(char *));
		listing->nextPath += candidates;

		unprocessed = KeepUnprocessedFiles(pipeline->name, paths, candidates);
		for (int i = 0; i < unprocessed; i++)
			batch = lappend(batch, paths[i]);
	}

	return batch;
}


/* The command's $1: one path, or an array of paths when batched */
static Datum
FileBatchArgument(List *paths, bool batched)
{
	Datum	   *elements;
	int			i = 0;
	ListCell   *pathCell;

	if (!batched)
		return CStringGetTextDatum(linitial(paths));

	elements = palloc(list_length(paths) * sizeof(Datum));
	foreach(pathCell, paths)
		elements[i++] = CStringGetTextDatum(lfirst(pathCell));

	return PointerGetDatum(construct_array(elements, i, TEXTOID, -1, false, TYPALIGN_INT));
}


void
ResetFileListPipeline(const Pipeline *pipeline)
{
	DeleteProcessedFiles(pipeline->name);
}
