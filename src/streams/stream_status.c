/*-------------------------------------------------------------------------
 *
 * stream_status.c
 *	  incremental._stream_status(), behind the view incremental.streams:
 *	  per table with retention, its consumers, how far they got, who holds
 *	  rows back, and what is kept.
 *
 * Monitoring never waits: a table whose lock it cannot get at once (the
 * maintenance holds it for a moment to drop partitions) shows no sizes,
 * and a sequence the caller may not read shows no last id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog/pipeline_catalog.h"
#include "catalog/stream_catalog.h"
#include "pipelines/sequence.h"
#include "streams/stream_consumers.h"
#include "streams/stream_partitions.h"
#include "streams/stream_retention.h"

PG_FUNCTION_INFO_V1(incremental_stream_status);

enum
{
	COLUMN_STREAM,
	COLUMN_OWNER,
	COLUMN_RETENTION,
	COLUMN_PARTITION_SIZE,
	COLUMN_CONSUMERS,
	COLUMN_CONSUMED_THROUGH,
	COLUMN_HELD_BACK_BY,
	COLUMN_HELD_BACK_REASON,
	COLUMN_LAST_ID,
	COLUMN_IDS_AHEAD,
	COLUMN_PARTITIONS,
	COLUMN_PARTITIONS_HELD,
	COLUMN_ESTIMATED_ROWS,
	COLUMN_TOTAL_BYTES,
	COLUMN_MAINTENANCE_PIPELINE,
	COLUMN_IGNORED_CONSUMERS,
	COLUMN_OLDEST_UNCONSUMED_ID,
	STATUS_COLUMNS
};

static void StreamStatusRow(StreamDefinition *definition, List *pipelines, Datum *values,
							bool *nulls);
static Datum TextArray(List *strings);
static Oid	RelationOwner(Oid relationId);
static void AddRelationSize(Oid relationId, int64 *rows, int64 *bytes);


Datum
incremental_stream_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *resultInfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *definitions;
	List	   *pipelines = NIL;
	ListCell   *cell;

	InitMaterializedSRF(fcinfo, 0);

	/* the pipelines once for all the tables */
	definitions = ReadAllStreamDefinitions();
	if (definitions != NIL)
		pipelines = ReadAllPipelines();

	foreach(cell, definitions)
	{
		StreamDefinition *definition = lfirst(cell);
		Datum		values[STATUS_COLUMNS];
		bool		nulls[STATUS_COLUMNS];

		/* a table dropped meanwhile: its row goes with this transaction */
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(definition->relationId)))
			continue;
		memset(nulls, true, sizeof(nulls));
		StreamStatusRow(definition, pipelines, values, nulls);
		tuplestore_putvalues(resultInfo->setResult, resultInfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}


static void
StreamStatusRow(StreamDefinition *definition, List *pipelines, Datum *values, bool *nulls)
{
	Oid			relationId = definition->relationId;
	StreamConsumption consumption;
	List	   *consumerNames = NIL;
	Oid			sequenceId;
	List	   *sequenceIds;
	int64		lastValue = 0;
	bool		hasLastValue = false;
	bool		held = false;
	char	   *retention = RetentionText(definition);
	ListCell   *cell;

#define SET(column, value) (values[column] = (value), nulls[column] = false)
	SET(COLUMN_STREAM, ObjectIdGetDatum(relationId));
	SET(COLUMN_OWNER, ObjectIdGetDatum(RelationOwner(relationId)));
	SET(COLUMN_RETENTION, CStringGetTextDatum(retention != NULL ? retention : "keep all"));
	if (definition->partitionSize > 0)
		SET(COLUMN_PARTITION_SIZE, Int64GetDatum(definition->partitionSize));
	SET(COLUMN_MAINTENANCE_PIPELINE, CStringGetTextDatum(definition->maintenancePipelineName));

	sequenceIds = getOwnedSequences(relationId);
	if (list_length(sequenceIds) != 1)
		return;
	sequenceId = linitial_oid(sequenceIds);

	ReadStreamConsumption(relationId, sequenceId, pipelines, &consumption);
	foreach(cell, consumption.consumers)
		consumerNames = lappend(consumerNames, ((StreamConsumer *) lfirst(cell))->pipelineName);
	SET(COLUMN_CONSUMERS, TextArray(consumerNames));
	if (consumption.ignored != NIL)
		SET(COLUMN_IGNORED_CONSUMERS, TextArray(consumption.ignored));
	if (consumption.mayRelease)
	{
		SET(COLUMN_CONSUMED_THROUGH, Int64GetDatum(consumption.consumedThrough));
		if (consumption.consumedThrough < PG_INT64_MAX)
			SET(COLUMN_OLDEST_UNCONSUMED_ID, Int64GetDatum(consumption.consumedThrough + 1));
	}

	if (pg_class_aclcheck(sequenceId, GetUserId(), ACL_SELECT | ACL_USAGE) == ACLCHECK_OK &&
		ConditionalLockRelationOid(sequenceId, AccessShareLock))
	{
		hasLastValue = ReadSequenceLastValue(sequenceId, &lastValue);
		if (hasLastValue)
			SET(COLUMN_LAST_ID, Int64GetDatum(lastValue));
	}

	if (ConditionalLockRelationOid(relationId, AccessShareLock))
	{
		int64		rows = 0;
		int64		bytes = 0;

		if (get_rel_relkind(relationId) == RELKIND_PARTITIONED_TABLE)
		{
			Oid			defaultId;
			List	   *partitions = ReadStreamPartitions(relationId, &defaultId);
			int			heldPartitions = 0;

			foreach(cell, partitions)
			{
				StreamPartition *partition = lfirst(cell);

				AddRelationSize(partition->relationId, &rows, &bytes);
				/* all its ids drawn, but not all processed */
				if (hasLastValue && partition->boundedAbove && partition->upper - 1 <= lastValue &&
					(!consumption.mayRelease || partition->upper - 1 > consumption.consumedThrough))
					heldPartitions++;
			}
			if (OidIsValid(defaultId))
				AddRelationSize(defaultId, &rows, &bytes);
			SET(COLUMN_PARTITIONS, Int32GetDatum(list_length(partitions)));
			SET(COLUMN_PARTITIONS_HELD, Int32GetDatum(heldPartitions));
			if (definition->partitionSize > 0 && hasLastValue)
				SET(COLUMN_IDS_AHEAD, Int64GetDatum(HighestPartitionBound(partitions) - 1 - lastValue));
			held = heldPartitions > 0;
		}
		else
		{
			AddRelationSize(relationId, &rows, &bytes);
			held = hasLastValue &&
				(!consumption.mayRelease || consumption.consumedThrough < lastValue);
		}
		SET(COLUMN_ESTIMATED_ROWS, Int64GetDatum(rows));
		SET(COLUMN_TOTAL_BYTES, Int64GetDatum(bytes));
		UnlockRelationOid(relationId, AccessShareLock);
	}

	if (consumption.consumers == NIL)
		SET(COLUMN_HELD_BACK_REASON, CStringGetTextDatum(consumption.holdReason));
	else if (held && consumption.holders != NIL)
	{
		SET(COLUMN_HELD_BACK_BY, TextArray(consumption.holders));
		SET(COLUMN_HELD_BACK_REASON, CStringGetTextDatum(consumption.holdReason));
	}
#undef SET
}


static Datum
TextArray(List *strings)
{
	Datum	   *elements = palloc0(sizeof(Datum) * (list_length(strings) + 1));
	ListCell   *cell;

	foreach(cell, strings)
		elements[foreach_current_index(cell)] = CStringGetTextDatum(lfirst(cell));
	return PointerGetDatum(construct_array(elements, list_length(strings), TEXTOID, -1, false,
										   TYPALIGN_INT));
}


static Oid
RelationOwner(Oid relationId)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relationId));
	Oid			ownerId = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		ownerId = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
		ReleaseSysCache(tuple);
	}
	return ownerId;
}


/* Adds the planner's row estimate and the size on disk of one relation */
static void
AddRelationSize(Oid relationId, int64 *rows, int64 *bytes)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relationId));

	if (!HeapTupleIsValid(tuple))
		return;
	if (((Form_pg_class) GETSTRUCT(tuple))->reltuples > 0)
		*rows += (int64) ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
	ReleaseSysCache(tuple);
	*bytes += DatumGetInt64(DirectFunctionCall1(pg_total_relation_size,
												ObjectIdGetDatum(relationId)));
}
