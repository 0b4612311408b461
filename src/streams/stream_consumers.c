/*-------------------------------------------------------------------------
 *
 * stream_consumers.c
 *	  Which pipelines consume a table with retention, and which of its
 *	  rows all of them have processed.
 *
 * A consumer is any pipeline whose source is the table or its sequence;
 * continuous views read their source through such a pipeline.  Only a
 * sequence pipeline says which rows it has processed, by id: every id at
 * or below its progress, since it advances only past ranges whose writers
 * have all finished (source_writers.c).  The lowest progress over all
 * consumers is what may go.  Paused and failing consumers count like the
 * others: their progress stands still, and so does the retention.
 *
 * A time interval or file list pipeline on the table tracks time or files,
 * not ids, so nothing tells which rows it is done with: while one reads
 * the table, every row is kept.  A table without consumers keeps every
 * row too: nothing says that its rows are not still wanted.
 *
 * A pipeline whose owner may not read the table (SELECT) cannot process
 * it, and holds nothing back: otherwise any role once granted SELECT could
 * keep the table's rows forever with a paused pipeline, and its owner
 * could not stop it.  REVOKE SELECT lets them go; the pipeline's batches
 * fail meanwhile, and a later GRANT finds the rows it held gone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/acl.h"

#include "catalog/pipeline_catalog.h"
#include "streams/stream_consumers.h"


/*
 * A sequence pipeline's source is the table that owns its sequence, also
 * when it was created on the sequence (ResolveSourceSequence), so the
 * pipelines row alone says which pipelines are consumers, and only their
 * progress is read.  'pipelines' is ReadAllPipelines() when the caller
 * has it already, NIL to read it here.
 */
void
ReadStreamConsumption(Oid relationId, Oid sequenceId, List *pipelines,
					  StreamConsumption *consumption)
{
	List	   *untracked = NIL;
	ListCell   *cell;

	memset(consumption, 0, sizeof(StreamConsumption));
	if (pipelines == NIL)
		pipelines = ReadAllPipelines();

	foreach(cell, pipelines)
	{
		Pipeline   *pipeline = lfirst(cell);
		SequencePipelineState *state = NULL;
		StreamConsumer *consumer;

		if (pipeline->sourceRelationId != relationId &&
			pipeline->sourceRelationId != sequenceId)
			continue;
		if (pipeline->type == PIPELINE_TYPE_SEQUENCE)
		{
			state = TryReadSequencePipelineState(pipeline->name);
			if (state == NULL)
				continue;		/* dropped since */
		}

		if (pg_class_aclcheck(relationId, pipeline->ownerId, ACL_SELECT) != ACLCHECK_OK)
		{
			consumption->ignored = lappend(consumption->ignored, pipeline->name);
			continue;
		}

		consumer = palloc0(sizeof(StreamConsumer));
		consumer->pipelineName = pipeline->name;
		consumer->tracksIds = state != NULL && state->sequenceId == sequenceId;
		consumer->processedThrough = consumer->tracksIds ? state->lastProcessed : 0;
		consumption->consumers = lappend(consumption->consumers, consumer);
		if (!consumer->tracksIds)
			untracked = lappend(untracked, consumer->pipelineName);
	}

	if (consumption->consumers == NIL)
	{
		consumption->holdReason = "the table has no consumers";
		return;
	}
	if (untracked != NIL)
	{
		consumption->holders = untracked;
		consumption->holdReason = "time interval and file list pipelines do not say "
			"which rows they processed";
		return;
	}

	consumption->mayRelease = true;
	consumption->consumedThrough = PG_INT64_MAX;
	foreach(cell, consumption->consumers)
	{
		StreamConsumer *consumer = lfirst(cell);

		consumption->consumedThrough = Min(consumption->consumedThrough,
										   consumer->processedThrough);
	}
	foreach(cell, consumption->consumers)
	{
		StreamConsumer *consumer = lfirst(cell);

		if (consumer->processedThrough == consumption->consumedThrough)
			consumption->holders = lappend(consumption->holders, consumer->pipelineName);
	}
	consumption->holdReason = "the oldest rows kept wait for it";
}
