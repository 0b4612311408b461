/*-------------------------------------------------------------------------
 *
 * pipeline_preview.c
 *	  incremental.preview_pipeline(): what the next run of a pipeline would
 *	  process, batch by batch, without running anything.
 *
 * The preview reads the progress as committed and the source's state as
 * of now; it takes no lock that writers or a running batch would wait for
 * (not even the pipeline's), so a run that commits meanwhile makes it
 * stale.  A sequence pipeline's run also waits for writers still holding
 * values of its range, which the preview does not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "catalog/catalog_version.h"
#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_kinds.h"

PG_FUNCTION_INFO_V1(incremental_preview_pipeline);

#define PREVIEW_COLUMNS 6


/*
 * incremental.preview_pipeline(pipeline_name, max_batches) returns
 * (batch, first_item, last_item, items, command, arguments)
 */
Datum
incremental_preview_pipeline(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *resultInfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *pipelineName;
	int32		maxBatches;
	Pipeline   *pipeline;
	List	   *batches = NIL;
	ListCell   *cell;

	CheckInstalledVersion();
	pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	CheckArgumentNotNull(fcinfo, 1, "max_batches");
	maxBatches = PG_GETARG_INT32(1);
	if (maxBatches <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_batches must be positive")));

	pipeline = ReadPipeline(pipelineName, false);
	CheckPipelinePermission(pipeline, PIPELINE_ACTION_EXECUTE);

	InitMaterializedSRF(fcinfo, 0);

	switch (pipeline->type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			batches = PreviewSequenceBatches(pipeline, maxBatches);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			batches = PreviewTimeIntervalBatches(pipeline, maxBatches);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			batches = PreviewFileListBatches(pipeline, maxBatches);
			break;
	}

	foreach(cell, batches)
	{
		BatchPreview *batch = lfirst(cell);
		Datum		values[PREVIEW_COLUMNS];
		bool		nulls[PREVIEW_COLUMNS] = {0};
		Datum	   *arguments = palloc(sizeof(Datum) * list_length(batch->arguments));
		ListCell   *argumentCell;

		foreach(argumentCell, batch->arguments)
			arguments[foreach_current_index(argumentCell)] =
				CStringGetTextDatum(lfirst(argumentCell));

		values[0] = Int32GetDatum(batch->batch > 0 ? batch->batch :
								  foreach_current_index(cell) + 1);
		values[1] = CStringGetTextDatum(batch->first);
		values[2] = CStringGetTextDatum(batch->last);
		values[3] = Int64GetDatum(batch->items);
		values[4] = CStringGetTextDatum(pipeline->command);
		values[5] = PointerGetDatum(construct_array(arguments, list_length(batch->arguments),
													TEXTOID, -1, false, TYPALIGN_INT));
		tuplestore_putvalues(resultInfo->setResult, resultInfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}
