/*-------------------------------------------------------------------------
 *
 * sequence_api.c
 *	  incremental.create_sequence_pipeline(), in its 1.4 and 1.3 forms.
 *
 * The source may be given as the table, which must own exactly one
 * sequence (a serial or identity column), or as a sequence owned by a
 * table: the pipeline follows the sequence and waits for the table's
 * writers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/syscache.h"
#include "utils/rel.h"
#include "catalog/pg_index.h"
#include "access/table.h"
#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog/catalog_version.h"
#include "catalog/pipeline_catalog.h"
#include "common/relation_name.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_chain.h"
#include "pipelines/pipeline_create.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_create_sequence_pipeline);
PG_FUNCTION_INFO_V1(incremental_create_sequence_pipeline_v13);
PG_FUNCTION_INFO_V1(incremental_create_sequence_pipeline_v13_untyped);

static void CreateSequencePipelineFromSql(FunctionCallInfo fcinfo, int scheduleArg,
										  int maxBatchSizeArg, bool executeImmediately);


/*
 * incremental.create_sequence_pipeline(pipeline_name, source_table_name,
 *		command, schedule, max_batch_size, execute_immediately)
 */
Datum
incremental_create_sequence_pipeline(PG_FUNCTION_ARGS)
{
	/* 1.3's catalog binds its five-argument form to this symbol */
	CheckInstalledVersion();
	CheckArgumentNotNull(fcinfo, 5, "execute_immediately");
	CreateSequencePipelineFromSql(fcinfo, 3, 4, PG_GETARG_BOOL(5));
	SetDependsOnArgument(fcinfo, 6, GetTextArgument(fcinfo, 0, "pipeline_name"));
	PG_RETURN_VOID();
}


/*
 * The pg_incremental 1.3 positional form: (pipeline_name, source_table_name,
 * command, schedule, execute_immediately), with no batch size.
 */
Datum
incremental_create_sequence_pipeline_v13(PG_FUNCTION_ARGS)
{
	CheckArgumentNotNull(fcinfo, 4, "execute_immediately");
	CreateSequencePipelineFromSql(fcinfo, 3, -1, PG_GETARG_BOOL(4));
	PG_RETURN_VOID();
}


/*
 * The same 1.3 form when the fifth argument has no type: an unknown
 * literal such as 'false', or a driver's untyped parameter, resolves to a
 * text parameter rather than to the 1.4 form's bigint or the boolean one.
 * It is read as a boolean, as 1.3 read it.
 */
Datum
incremental_create_sequence_pipeline_v13_untyped(PG_FUNCTION_ARGS)
{
	char	   *text;
	bool		executeImmediately;

	text = GetTextArgument(fcinfo, 4, "execute_immediately");
	if (!parse_bool(text, &executeImmediately))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid value for execute_immediately: \"%s\"", text),
				 errdetail("The fifth argument of create_sequence_pipeline is execute_immediately, "
						   "as in pg_incremental 1.3."),
				 errhint("Pass true or false, or pass the batch size by name: "
						 "max_batch_size => %s.", text)));

	CreateSequencePipelineFromSql(fcinfo, 3, -1, executeImmediately);
	PG_RETURN_VOID();
}


static void
CreateSequencePipelineFromSql(FunctionCallInfo fcinfo, int scheduleArg, int maxBatchSizeArg,
							  bool executeImmediately)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "pipeline_name");
	char	   *command;
	char	   *schedule = NULL;
	int64		maxBatchSize = 0;

	CheckArgumentNotNull(fcinfo, 1, "source_table_name");
	command = GetTextArgument(fcinfo, 2, "command");
	if (!PG_ARGISNULL(scheduleArg))
		schedule = text_to_cstring(PG_GETARG_TEXT_PP(scheduleArg));

	if (maxBatchSizeArg >= 0 && !PG_ARGISNULL(maxBatchSizeArg))
	{
		maxBatchSize = PG_GETARG_INT64(maxBatchSizeArg);
		if (maxBatchSize <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_batch_size must be positive"),
					 errhint("Pass NULL to process all new values in one batch.")));
	}

	CreateSequencePipeline(pipelineName, PG_GETARG_OID(1), command, schedule,
						   maxBatchSize, NULL, executeImmediately);
}


/*
 * CreateSequencePipeline creates a sequence pipeline on a table with one
 * owned sequence, or on a sequence owned by a table.  maxBatchSize 0 means
 * no limit; a timeZone is the command's TimeZone (NULL: the session's, as
 * in pg_incremental 1.x).  Layers above the pipelines (continuous views)
 * create their pipelines through this function.
 */
void
CreateSequencePipeline(const char *pipelineName, Oid sourceRelationId, const char *command,
					   const char *schedule, int64 maxBatchSize, const char *timeZone,
					   bool executeImmediately)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Oid			tableId;
	SequencePipelineState state = {0};
	Pipeline   *pipeline;

	Assert(maxBatchSize >= 0);
	state.maxBatchSize = maxBatchSize;
	state.timeZone = timeZone != NULL ? pstrdup(timeZone) : NULL;

	ResolveSourceSequence(sourceRelationId, &tableId, &state.sequenceId);
	CheckOwnerMayReadSource(tableId, GetUserId());
	state.initialValue = CheckSequenceUsable(state.sequenceId, GetUserId());
	state.lastProcessed = state.initialValue;

	pipeline = BeginPipelineCreation(pipelineName, PIPELINE_TYPE_SEQUENCE, tableId,
									 command, schedule, lengthof(argtypes), argtypes);
	InsertSequencePipelineState(pipelineName, &state);
	FinishPipelineCreation(pipeline, executeImmediately);
}


/*
 * SetSequencePipelineProgress records that a sequence pipeline has processed
 * every value up to lastProcessed: for a layer above that processed them
 * itself at creation (a roll-up loads its first state from the view it
 * reads).  The caller holds the pipeline's lock or created it in this
 * transaction.
 */
void
SetSequencePipelineProgress(const char *pipelineName, int64 lastProcessed)
{
	UpdateLastProcessedSequenceNumber(pipelineName, lastProcessed);
}


/*
 * ReadSequencePipelineProgress: where a sequence pipeline started and how
 * far it has processed its sequence
 */
void
ReadSequencePipelineProgress(const char *pipelineName, int64 *initialValue,
							 int64 *lastProcessed)
{
	SequencePipelineState *state = ReadSequencePipelineState(pipelineName);

	*initialValue = state->initialValue;
	*lastProcessed = state->lastProcessed;
}


/*
 * ExecuteAsSequencePipeline runs a command over the sequence values from ..
 * to as the pipeline's batches run theirs: as its owner, in a
 * security-restricted operation, with its search_path and time zone.  For
 * a layer above that processes again values the pipeline has processed (a
 * continuous view's backfill of added aggregates); the progress is the
 * caller's to keep.  Returns the rows the command processed.
 */
uint64
ExecuteAsSequencePipeline(const char *pipelineName, const char *command, int64 from, int64 to)
{
	Pipeline	pipeline = *ReadPipeline(pipelineName, false);
	SequencePipelineState *state = ReadSequencePipelineState(pipelineName);
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2] = {Int64GetDatum(from), Int64GetDatum(to)};
	OwnerSwitch ownerSwitch;
	uint64		rowCount;

	pipeline.command = unconstify(char *, command);
	SwitchToPipelineOwner(&pipeline, &ownerSwitch);
	if (state->timeZone != NULL)
		SetPipelineTimeZone(state->timeZone);
	rowCount = ExecutePipelineCommand(&pipeline, lengthof(argtypes), argtypes, values);
	RestoreFromPipelineOwner(&ownerSwitch);

	return rowCount;
}


/*
 * SequenceOwnerColumn returns the column that owns a sequence (serial:
 * an AUTO dependency, identity: an INTERNAL one) and sets *tableId to its
 * table; InvalidAttrNumber when no column owns it.
 */
AttrNumber
SequenceOwnerColumn(Oid sequenceId, Oid *tableId)
{
	int32		column;

	if (sequenceIsOwned(sequenceId, DEPENDENCY_AUTO, tableId, &column) ||
		sequenceIsOwned(sequenceId, DEPENDENCY_INTERNAL, tableId, &column))
		return (AttrNumber) column;
	return InvalidAttrNumber;
}


/*
 * ColumnLeadsAnIndex: whether an index without a predicate has the column
 * as its first key, so that ranges of it are found without a full scan.
 */
bool
ColumnLeadsAnIndex(Oid relationId, AttrNumber column)
{
	Relation	relation = table_open(relationId, AccessShareLock);
	List	   *indexIds = RelationGetIndexList(relation);
	bool		indexed = false;
	ListCell   *cell;

	foreach(cell, indexIds)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indnatts > 0 && index->indkey.values[0] == column &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL))
			indexed = true;
		ReleaseSysCache(tuple);
	}
	table_close(relation, AccessShareLock);
	return indexed;
}


/*
 * ResolveSourceSequence finds the table whose writers the pipeline waits
 * for and the sequence it follows, from either one: a table must own
 * exactly one sequence (a serial or identity column), and a sequence must
 * be owned by a table.
 */
void
ResolveSourceSequence(Oid relationId, Oid *tableId, Oid *sequenceId)
{
	char		relationKind = get_rel_relkind(relationId);
	char	   *relationName = get_rel_name(relationId);

	if (relationName == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relationId)));

	if (relationKind == RELKIND_SEQUENCE)
	{
		*sequenceId = relationId;
		if (SequenceOwnerColumn(relationId, tableId) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sequence \"%s\" is not owned by a table", relationName),
					 errdetail("The pipeline waits for the writers of the table that owns "
							   "the sequence, so that no value in a range can still appear later."),
					 errhint("Link the sequence to its table with ALTER SEQUENCE %s OWNED BY "
							 "table.column, or pass the table instead.",
							 QualifiedRelationName(relationId))));
	}
	else if (relationKind == RELKIND_RELATION || relationKind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *sequenceIds = getOwnedSequences(relationId);

		if (list_length(sequenceIds) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 list_length(sequenceIds) == 0 ?
					 errmsg("table \"%s\" has no sequence", relationName) :
					 errmsg("table \"%s\" has %d sequences", relationName,
							list_length(sequenceIds)),
					 list_length(sequenceIds) == 0 ?
					 errhint("Add a bigserial or identity column to the table, or pass a "
							 "sequence owned by the table.") :
					 errhint("Pass the name of the sequence the pipeline should follow "
							 "instead of the table.")));

		*tableId = relationId;
		*sequenceId = linitial_oid(sequenceIds);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or a sequence", relationName),
				 errhint("A sequence pipeline reads a table with a serial or identity "
						 "column, or a sequence owned by a table.")));
}
