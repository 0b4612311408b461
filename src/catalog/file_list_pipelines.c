/*-------------------------------------------------------------------------
 *
 * file_list_pipelines.c
 *	  Reading and writing incremental.file_list_pipelines and
 *	  incremental.processed_files: where a pipeline finds its files and
 *	  which of them it has processed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "catalog/pipeline_catalog.h"
#include "catalog/catalog_access.h"

static CatalogStatement InsertStatement = {
	.sql = "INSERT INTO incremental.file_list_pipelines "
	"(pipeline_name, file_pattern, batched, list_function, max_batch_size, "
	"max_batches_per_run) "
	"VALUES ($1, $2, $3, $4, $5, $6)",
	.nargs = 6,
	.argtypes = {TEXTOID, TEXTOID, BOOLOID, TEXTOID, INT4OID, INT4OID},
};

static CatalogStatement UpdateMaxBatchSizeStatement = {
	.sql = "UPDATE incremental.file_list_pipelines SET max_batch_size = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, INT4OID},
};

static CatalogStatement InsertProcessedFilesStatement = {
	.sql = "INSERT INTO incremental.processed_files (pipeline_name, path) "
	"SELECT $1, f.path FROM pg_catalog.unnest($2) AS f(path) "
	"ON CONFLICT DO NOTHING",
	.nargs = 2,
	.argtypes = {TEXTOID, TEXTARRAYOID},
};

static CatalogStatement DeleteProcessedFilesStatement = {
	.sql = "DELETE FROM incremental.processed_files "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};


FileListPipelineState *
ReadFileListPipelineState(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[Natts_file_list_pipelines];
	bool		nulls[Natts_file_list_pipelines];
	FileListPipelineState *state;

	if (!ReadCatalogRow(CATALOG_FILE_LIST_PIPELINES, 1, &key, values, nulls))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file list pipeline \"%s\" has no settings row", pipelineName),
				 errhint("Drop the pipeline and create it again.")));

	state = palloc0(sizeof(FileListPipelineState));
	state->filePattern = TextDatumGetCString(values[Anum_file_list_pipelines_file_pattern - 1]);
	state->batched = DatumGetBool(values[Anum_file_list_pipelines_batched - 1]);
	if (!nulls[Anum_file_list_pipelines_list_function - 1])
		state->listFunction =
			TextDatumGetCString(values[Anum_file_list_pipelines_list_function - 1]);
	state->maxBatchSize = DatumGetInt32(values[Anum_file_list_pipelines_max_batch_size - 1]);
	state->maxBatchesPerRun =
		DatumGetInt32(values[Anum_file_list_pipelines_max_batches_per_run - 1]);

	return state;
}


void
InsertFileListPipelineState(const char *pipelineName, const FileListPipelineState *state)
{
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = CStringGetTextDatum(state->filePattern);
	values[2] = BoolGetDatum(state->batched);
	if (state->listFunction != NULL)
		values[3] = CStringGetTextDatum(state->listFunction);
	else
		nulls[3] = 'n';
	values[4] = Int32GetDatum(state->maxBatchSize);
	values[5] = Int32GetDatum(state->maxBatchesPerRun);

	ModifyCatalog(&InsertStatement, values, nulls);
}


/*
 * KeepUnprocessedFiles removes from paths[0 .. count) the files that the
 * pipeline has processed, keeping the order of the others, and returns how
 * many are left.
 */
int
KeepUnprocessedFiles(const char *pipelineName, char **paths, int count)
{
	Datum	   *pathDatums;
	bool	   *processed;
	int			kept = 0;

	if (count == 0)
		return 0;

	pathDatums = palloc_extended(count * sizeof(Datum), MCXT_ALLOC_HUGE);
	processed = palloc_extended(count * sizeof(bool), MCXT_ALLOC_HUGE);
	for (int i = 0; i < count; i++)
		pathDatums[i] = CStringGetTextDatum(paths[i]);

	CatalogKeysExist(CATALOG_PROCESSED_FILES, CStringGetTextDatum(pipelineName),
					 pathDatums, count, processed);

	for (int i = 0; i < count; i++)
	{
		if (!processed[i])
			paths[kept++] = paths[i];
		pfree(DatumGetPointer(pathDatums[i]));
	}

	pfree(pathDatums);
	pfree(processed);
	return kept;
}


/* InsertProcessedFiles records paths (C strings) as processed */
void
InsertProcessedFiles(const char *pipelineName, List *paths)
{
	int			pathCount = list_length(paths);
	Datum	   *pathDatums = palloc(pathCount * sizeof(Datum));
	Datum		values[2];
	int			i = 0;
	ListCell   *pathCell;

	foreach(pathCell, paths)
		pathDatums[i++] = CStringGetTextDatum(lfirst(pathCell));

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = PointerGetDatum(construct_array(pathDatums, pathCount, TEXTOID, -1, false,
												TYPALIGN_INT));

	ModifyCatalog(&InsertProcessedFilesStatement, values, NULL);
}


void
DeleteProcessedFiles(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);

	ModifyCatalog(&DeleteProcessedFilesStatement, &key, NULL);
}


void
UpdateFileListMaxBatchSize(const char *pipelineName, int32 maxBatchSize)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), Int32GetDatum(maxBatchSize)};

	ModifyCatalog(&UpdateMaxBatchSizeStatement, values, NULL);
}
