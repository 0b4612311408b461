/*-------------------------------------------------------------------------
 *
 * sequence_pipelines.c
 *	  Reading and writing incremental.sequence_pipelines: which sequence a
 *	  pipeline follows and the highest value it has processed.
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
	.sql = "INSERT INTO incremental.sequence_pipelines "
	"(pipeline_name, sequence_name, last_processed_sequence_number, "
	"max_batch_size, initial_sequence_number, time_zone) "
	"VALUES ($1, $2, $3, $4, $5, $6)",
	.nargs = 6,
	.argtypes = {TEXTOID, REGCLASSOID, INT8OID, INT8OID, INT8OID, TEXTOID},
};

static CatalogStatement UpdateMaxBatchSizeStatement = {
	.sql = "UPDATE incremental.sequence_pipelines SET max_batch_size = $2 "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {TEXTOID, INT8OID},
};


SequencePipelineState *
ReadSequencePipelineState(const char *pipelineName)
{
	SequencePipelineState *state = TryReadSequencePipelineState(pipelineName);

	if (state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sequence pipeline \"%s\" has no progress row", pipelineName),
				 errhint("Drop the pipeline and create it again.")));
	return state;
}


/*
 * TryReadSequencePipelineState returns NULL for a pipeline that has no
 * progress row, such as one dropped since the caller read the pipelines.
 */
SequencePipelineState *
TryReadSequencePipelineState(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		values[Natts_sequence_pipelines];
	bool		nulls[Natts_sequence_pipelines];
	SequencePipelineState *state;

	if (!ReadCatalogRow(CATALOG_SEQUENCE_PIPELINES, 1, &key, values, nulls))
		return NULL;

	state = palloc0(sizeof(SequencePipelineState));
	state->sequenceId = DatumGetObjectId(values[Anum_sequence_pipelines_sequence_name - 1]);
	state->lastProcessed = DatumGetInt64(values[Anum_sequence_pipelines_last_processed - 1]);
	state->initialValue = DatumGetInt64(values[Anum_sequence_pipelines_initial_value - 1]);
	if (!nulls[Anum_sequence_pipelines_max_batch_size - 1])
		state->maxBatchSize = DatumGetInt64(values[Anum_sequence_pipelines_max_batch_size - 1]);
	if (!nulls[Anum_sequence_pipelines_time_zone - 1])
		state->timeZone = TextDatumGetCString(values[Anum_sequence_pipelines_time_zone - 1]);

	return state;
}


void
InsertSequencePipelineState(const char *pipelineName, const SequencePipelineState *state)
{
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(pipelineName);
	values[1] = ObjectIdGetDatum(state->sequenceId);
	values[2] = Int64GetDatum(state->lastProcessed);
	values[3] = Int64GetDatum(state->maxBatchSize);
	if (state->maxBatchSize == 0)
		nulls[3] = 'n';
	values[4] = Int64GetDatum(state->initialValue);
	if (state->timeZone != NULL)
		values[5] = CStringGetTextDatum(state->timeZone);
	else
		nulls[5] = 'n';

	ModifyCatalog(&InsertStatement, values, nulls);
}


/* UpdateLastProcessedSequenceNumber: every batch's, so written directly */
void
UpdateLastProcessedSequenceNumber(const char *pipelineName, int64 lastProcessed)
{
	AttrNumber	column = Anum_sequence_pipelines_last_processed;
	Datum		value = Int64GetDatum(lastProcessed);

	(void) UpdateCatalogRow(CATALOG_SEQUENCE_PIPELINES, CStringGetTextDatum(pipelineName), 1,
							&column, &value, NULL);
}


/* UpdateSequenceMaxBatchSize sets max_batch_size; 0 removes the limit */
void
UpdateSequenceMaxBatchSize(const char *pipelineName, int64 maxBatchSize)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), Int64GetDatum(maxBatchSize)};
	char		nulls[2] = {' ', maxBatchSize > 0 ? ' ' : 'n'};

	ModifyCatalog(&UpdateMaxBatchSizeStatement, values, nulls);
}


/*
 * The progress of a sequence pipeline over a Citus source in the node
 * groups other than the coordinator's (incremental.sequence_pipeline_node_
 * groups); the coordinator's group keeps its progress in sequence_pipelines.
 */
static CatalogStatement ReadNodeGroupsStatement = {
	.sql = "SELECT pg_catalog.array_agg(group_id ORDER BY group_id), "
	"pg_catalog.array_agg(last_processed_sequence_number ORDER BY group_id), "
	"pg_catalog.array_agg(min_sequence_number ORDER BY group_id), "
	"pg_catalog.array_agg(max_sequence_number ORDER BY group_id) "
	"FROM incremental.sequence_pipeline_node_groups "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement WriteNodeGroupStatement = {
	.sql = "INSERT INTO incremental.sequence_pipeline_node_groups AS g "
	"(pipeline_name, group_id, last_processed_sequence_number, min_sequence_number, "
	"max_sequence_number, last_seen_sequence_number) VALUES ($1, $2, $3, $4, $5, $6) "
	"ON CONFLICT (pipeline_name, group_id) DO UPDATE SET "
	"last_processed_sequence_number = EXCLUDED.last_processed_sequence_number, "
	"last_seen_sequence_number = "
	"COALESCE(EXCLUDED.last_seen_sequence_number, g.last_seen_sequence_number)",
	.nargs = 6,
	.argtypes = {TEXTOID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID},
};

static CatalogStatement ForgetNodeGroupStatement = {
	.sql = "DELETE FROM incremental.sequence_pipeline_node_groups "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1 "
	"AND ($2 IS NULL OR group_id OPERATOR(pg_catalog.=) $2)",
	.nargs = 2,
	.argtypes = {TEXTOID, INT4OID},
};


List *
ReadNodeGroupProgress(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		arrays[4];
	bool		nulls[4];
	Datum	   *groups;
	Datum	   *processed;
	Datum	   *minima;
	Datum	   *maxima;
	int			count;
	List	   *progress = NIL;

	if (!QueryCatalog(&ReadNodeGroupsStatement, &key, NULL, arrays, nulls, 4) || nulls[0])
		return NIL;

	deconstruct_array(DatumGetArrayTypeP(arrays[0]), INT4OID, 4, true, TYPALIGN_INT,
					  &groups, NULL, &count);
	deconstruct_array(DatumGetArrayTypeP(arrays[1]), INT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &processed, NULL, &count);
	deconstruct_array(DatumGetArrayTypeP(arrays[2]), INT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &minima, NULL, &count);
	deconstruct_array(DatumGetArrayTypeP(arrays[3]), INT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &maxima, NULL, &count);
	for (int i = 0; i < count; i++)
	{
		NodeGroupProgress *group = palloc0(sizeof(NodeGroupProgress));

		group->groupId = DatumGetInt32(groups[i]);
		group->lastProcessed = DatumGetInt64(processed[i]);
		group->minValue = DatumGetInt64(minima[i]);
		group->maxValue = DatumGetInt64(maxima[i]);
		progress = lappend(progress, group);
	}
	return progress;
}


void
WriteNodeGroupProgress(const char *pipelineName, const NodeGroupProgress *group)
{
	Datum		values[6] = {
		CStringGetTextDatum(pipelineName), Int32GetDatum(group->groupId),
		Int64GetDatum(group->lastProcessed), Int64GetDatum(group->minValue),
		Int64GetDatum(group->maxValue), Int64GetDatum(group->lastSeen)
	};
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', group->hasLastSeen ? ' ' : 'n'};

	ModifyCatalog(&WriteNodeGroupStatement, values, nulls);
}


/* ForgetNodeGroupProgress removes one group's progress, or all (groupId < 0) */
void
ForgetNodeGroupProgress(const char *pipelineName, int32 groupId)
{
	Datum		values[2] = {CStringGetTextDatum(pipelineName), Int32GetDatum(groupId)};
	char		nulls[2] = {' ', groupId < 0 ? 'n' : ' '};

	ModifyCatalog(&ForgetNodeGroupStatement, values, nulls);
}
