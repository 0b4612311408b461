/*-------------------------------------------------------------------------
 *
 * sequence.c
 *	  Sequence pipelines: the command receives a range of new sequence
 *	  values ($1 and $2, bigint, inclusive) of a source table.
 *
 * A batch reads the sequence's last value, waits for every transaction
 * that may still insert rows with a value up to it (see
 * source_writers.c), and hands the range after the last processed value
 * to the command.
 *
 * Waiting for writers only works if a value cannot be drawn long before
 * it is inserted.  A sequence with CACHE above 1 breaks that: a session
 * takes several values at once and may insert one of them much later, in
 * a transaction that began after the wait.  Such sequences, and cycling or
 * descending ones, are refused, at creation and again at every run.
 *
 * The SQL function that creates sequence pipelines is in sequence_api.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog/pipeline_catalog.h"
#include "common/relation_name.h"
#include "distributed/citus_nodes.h"
#include "distributed/citus_tables.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_kinds.h"
#include "pipelines/sequence.h"
#include "pipelines/sequence_node_groups.h"
#include "pipelines/source_writers.h"

static void ReportSequenceBehindProgress(const Pipeline *pipeline,
										 const SequencePipelineState *state,
										 int64 lastValue);

PG_FUNCTION_INFO_V1(incremental_sequence_last_value);




/*
 * CheckSequenceUsable refuses sequences whose values could appear out of
 * order or twice, and owners who cannot read the sequence.  It returns the
 * value below the first one the sequence can produce, where a new
 * pipeline's progress starts: 0, as in pg_incremental, unless the sequence
 * can produce values below 1.
 */
int64
CheckSequenceUsable(Oid sequenceId, Oid ownerId)
{
	HeapTuple	sequenceTuple = SearchSysCache1(SEQRELID, ObjectIdGetDatum(sequenceId));
	Form_pg_sequence sequenceForm;
	char	   *sequenceName = get_rel_name(sequenceId);
	int64		initialValue;

	if (!HeapTupleIsValid(sequenceTuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence with OID %u does not exist", sequenceId)));

	sequenceForm = (Form_pg_sequence) GETSTRUCT(sequenceTuple);

	if (sequenceForm->seqincrement < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" descends", sequenceName),
				 errdetail("A sequence pipeline needs values that only ever increase."),
				 errhint("Use an ascending sequence with NO CYCLE.")));

	if (sequenceForm->seqcycle)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" cycles", sequenceName),
				 errdetail("A sequence pipeline needs values that only ever increase."),
				 errhint("Run ALTER SEQUENCE %s NO CYCLE.", QualifiedRelationName(sequenceId))));

	if (sequenceForm->seqcache > 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" has CACHE " INT64_FORMAT, sequenceName,
						sequenceForm->seqcache),
				 errdetail("Cached values may be inserted long after they were drawn, after "
						   "a pipeline has processed their range."),
				 errhint("Run ALTER SEQUENCE %s CACHE 1.", QualifiedRelationName(sequenceId))));

	if (sequenceForm->seqmin > 0)
		initialValue = 0;
	else if (sequenceForm->seqmin > PG_INT64_MIN)
		initialValue = sequenceForm->seqmin - 1;
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence \"%s\" has MINVALUE " INT64_FORMAT, sequenceName,
						PG_INT64_MIN),
				 errhint("Give the sequence a higher MINVALUE.")));

	ReleaseSysCache(sequenceTuple);

	if (pg_class_aclcheck(sequenceId, ownerId, ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sequence %s", sequenceName),
				 errhint("The pipeline's owner needs SELECT or USAGE on the sequence.")));

	return initialValue;
}


/*
 * ExecuteSequenceBatch processes the values after the last processed one,
 * up to the sequence's last value or max_batch_size values.
 */
PipelineBatchOutcome
ExecuteSequenceBatch(const Pipeline *pipeline, KindRunState *runState, BatchResult *result)
{
	SequencePipelineState *state = ReadSequencePipelineState(pipeline->name);
	int64		lastValue;
	int64		rangeStart;
	int64		rangeEnd;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];

	CheckSequenceUsable(state->sequenceId, pipeline->ownerId);

	if (!ReadSequenceLastValue(state->sequenceId, &lastValue))
		lastValue = state->initialValue;
	if (lastValue < state->lastProcessed)
		ReportSequenceBehindProgress(pipeline, state, lastValue);

	/* writes through any node of a Citus cluster: one range per node group */
	if (IsDistributedSource(pipeline->sourceRelationId))
		return ExecuteNodeGroupsBatch(pipeline, state, lastValue, runState, result);

	if (lastValue == state->lastProcessed)
	{
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\": no new sequence values", pipeline->name)));
		return PIPELINE_BATCH_NO_WORK;
	}

	rangeStart = state->lastProcessed + 1;
	rangeEnd = lastValue;
	if (state->maxBatchSize > 0 && rangeEnd - rangeStart >= state->maxBatchSize)
		rangeEnd = rangeStart + state->maxBatchSize - 1;

	CheckWaitIsMeaningful(pipeline->name);
	if (!WaitForSourceWriters(pipeline->sourceRelationId, state->sequenceId, DT_NOBEGIN,
							  runState->writerWaitMs))
	{
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\": writers of its source are still at work",
						pipeline->name)));
		return PIPELINE_BATCH_SOURCE_BUSY;
	}

	ereport(NOTICE,
			(errmsg("pipeline \"%s\": processing sequence values from " INT64_FORMAT
					" to " INT64_FORMAT, pipeline->name, rangeStart, rangeEnd)));

	/* a continuous view's batches compute its time buckets in one zone */
	if (state->timeZone != NULL)
		SetPipelineTimeZone(state->timeZone);

	values[0] = Int64GetDatum(rangeStart);
	values[1] = Int64GetDatum(rangeEnd);
	result->rowsProcessed = ExecutePipelineCommand(pipeline, 2, argtypes, values);
	result->itemsProcessed = rangeEnd - rangeStart + 1;
	result->rangeStart = psprintf(INT64_FORMAT, rangeStart);
	result->rangeEnd = psprintf(INT64_FORMAT, rangeEnd);

	UpdateLastProcessedSequenceNumber(pipeline->name, rangeEnd);

	return rangeEnd < lastValue ? PIPELINE_BATCH_MORE : PIPELINE_BATCH_DONE;
}


/*
 * PreviewSequenceBatches: the ranges from the progress to the sequence's
 * last value, max_batch_size values each.  A run also waits for the
 * writers that hold values of a range; the preview does not.
 */
List *
PreviewSequenceBatches(const Pipeline *pipeline, int maxBatches)
{
	SequencePipelineState *state = ReadSequencePipelineState(pipeline->name);
	List	   *batches = NIL;
	int64		lastValue;
	int64		position;

	CheckSequenceUsable(state->sequenceId, pipeline->ownerId);
	if (!ReadSequenceLastValue(state->sequenceId, &lastValue))
		lastValue = state->initialValue;
	if (lastValue < state->lastProcessed)
		ReportSequenceBehindProgress(pipeline, state, lastValue);
	if (IsDistributedSource(pipeline->sourceRelationId))
		return PreviewNodeGroupsBatches(pipeline, state, lastValue, maxBatches);

	for (position = state->lastProcessed;
		 position < lastValue && list_length(batches) < maxBatches;)
	{
		BatchPreview *batch = palloc0(sizeof(BatchPreview));
		int64		end = lastValue;

		if (state->maxBatchSize > 0 && lastValue - position > state->maxBatchSize)
			end = position + state->maxBatchSize;

		batch->first = psprintf(INT64_FORMAT, position + 1);
		batch->last = psprintf(INT64_FORMAT, end);
		batch->items = end - position;
		batch->arguments = list_make2(batch->first, batch->last);
		batches = lappend(batches, batch);
		position = end;
	}
	return batches;
}


int64
SkipSequenceRange(const Pipeline *pipeline, const char *first, const char *last)
{
	SequencePipelineState *state = ReadSequencePipelineState(pipeline->name);
	int64		from = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(first)));
	int64		to = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(last)));
	int64		lastValue;

	if (!ReadSequenceLastValue(state->sequenceId, &lastValue))
		lastValue = state->initialValue;

	/* on Citus, a range of another node group's */
	if (from != state->lastProcessed + 1 && IsDistributedSource(pipeline->sourceRelationId))
		return SkipNodeGroupRange(pipeline, state, from, to);

	if (from != state->lastProcessed + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline \"%s\" would process " INT64_FORMAT " next, not " INT64_FORMAT,
						pipeline->name, state->lastProcessed + 1, from),
				 errdetail("A skip moves the progress forward: it starts where the next batch "
						   "would."),
				 errhint("incremental.preview_pipeline shows the next batches.")));
	if (to < from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the range to skip ends before it starts")));
	if (to > lastValue)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sequence of pipeline \"%s\" has not reached " INT64_FORMAT " yet",
						pipeline->name, to),
				 errdetail("Its last value is " INT64_FORMAT "; a skip cannot reach ahead of it, "
						   "or rows not written yet would be lost.", lastValue)));

	UpdateLastProcessedSequenceNumber(pipeline->name, to);
	return to - from + 1;
}


/*
 * ReportSequenceBehindProgress raises the error for a sequence that went
 * back below what the pipeline processed: TRUNCATE ... RESTART IDENTITY,
 * ALTER SEQUENCE ... RESTART, setval(), or a restore that set the sequence
 * and not the catalog.  Going on would skip every new row up to the
 * progress, silently; the user must say which of the two moves.  The
 * message stays the same while the sequence moves, so that the scheduler
 * logs the failure once, not at every retry.
 */
static void
ReportSequenceBehindProgress(const Pipeline *pipeline, const SequencePipelineState *state,
							 int64 lastValue)
{
	char	   *sequenceName = get_rel_name(state->sequenceId);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("sequence \"%s\" is behind the progress of pipeline \"%s\"",
					sequenceName, pipeline->name),
			 lastValue == state->initialValue ?
			 errdetail("The pipeline has processed values up to " INT64_FORMAT
					   ", but the sequence has produced none since it was restarted; rows "
					   "with values up to " INT64_FORMAT " would be skipped.",
					   state->lastProcessed, state->lastProcessed) :
			 errdetail("The pipeline has processed values up to " INT64_FORMAT
					   ", but the sequence is back at " INT64_FORMAT "; rows with values up to "
					   INT64_FORMAT " would be skipped.",
					   state->lastProcessed, lastValue, state->lastProcessed),
			 errhint("If the table was emptied and its sequence restarted (TRUNCATE ... RESTART "
					 "IDENTITY), start over with SELECT incremental.reset_pipeline(%s); "
					 "otherwise move the sequence past the progress with SELECT setval(%s, "
					 INT64_FORMAT ").",
					 quote_literal_cstr(pipeline->name),
					 quote_literal_cstr(QualifiedRelationName(state->sequenceId)),
					 state->lastProcessed)));
}


/*
 * ReadSequenceLastValue returns false when the sequence has not produced a
 * value yet.  It reads the sequence's one row under AccessShareLock and a
 * share lock on its page, as nextval() writes it under an exclusive one:
 * pg_sequence_last_value() would take RowExclusiveLock, the lock of
 * nextval(), and the pipelines that follow the sequence would then take
 * each other for writers (source_writers.c).  The caller checks the
 * privileges (CheckSequenceUsable).
 */
bool
ReadSequenceLastValue(Oid sequenceId, int64 *lastValue)
{
	Relation	sequence = relation_open(sequenceId, AccessShareLock);
	Buffer		buffer = ReadBuffer(sequence, 0);
	Page		page;
	ItemId		item;
	HeapTupleData tuple;
	Form_pg_sequence_data row;
	bool		called;

	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buffer);
	item = PageGetItemId(page, FirstOffsetNumber);
	if (!ItemIdIsNormal(item))
		elog(ERROR, "sequence \"%s\" has no row", RelationGetRelationName(sequence));

	tuple.t_data = (HeapTupleHeader) PageGetItem(page, item);
	tuple.t_len = ItemIdGetLength(item);
	row = (Form_pg_sequence_data) GETSTRUCT(&tuple);
	called = row->is_called;
	*lastValue = row->last_value;

	UnlockReleaseBuffer(buffer);
	relation_close(sequence, NoLock);

	return called;
}


/*
 * incremental._sequence_last_value(regclass), for pipeline_stats: the
 * sequence's last value, NULL before its first value, without SELECT or
 * USAGE on it, or while DDL holds it (monitoring does not wait).
 */
Datum
incremental_sequence_last_value(PG_FUNCTION_ARGS)
{
	Oid			sequenceId = PG_GETARG_OID(0);
	int64		lastValue;

	if (!ConditionalLockRelationOid(sequenceId, AccessShareLock))
		PG_RETURN_NULL();
	if (get_rel_relkind(sequenceId) != RELKIND_SEQUENCE ||
		pg_class_aclcheck(sequenceId, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK ||
		!ReadSequenceLastValue(sequenceId, &lastValue))
		PG_RETURN_NULL();

	PG_RETURN_INT64(lastValue);
}


/*
 * SequencePipelineMayHaveWork is the scheduler's cheap look before a run
 * (pipeline_probe.h): false when the sequence has produced no value after
 * the pipeline's progress, or has not moved since a look that found none.
 * It waits for no lock: an ALTER SEQUENCE or DROP in progress means "may".
 */
bool
SequencePipelineMayHaveWork(const char *pipelineName, PipelineProbe *probe)
{
	SequencePipelineState *state = NULL;
	Oid			sequenceId;
	int64		lastValue;

	if (probe->valid)
		sequenceId = probe->sequenceId;
	else
	{
		state = ReadSequencePipelineState(pipelineName);
		sequenceId = state->sequenceId;
	}

	/* other nodes' copies of the sequence may have moved: only the run can tell */
	if (SequenceIsOnOtherNodes(sequenceId))
		return true;

	/* the lock the read takes, without waiting for it */
	if (!ConditionalLockRelationOid(sequenceId, AccessShareLock))
		return true;
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(sequenceId)))
		return true;
	if (!ReadSequenceLastValue(sequenceId, &lastValue))
		lastValue = PG_INT64_MIN;	/* no value yet */

	if (state == NULL)
	{
		/*
		 * Progress only moves forward between looks (the scheduler clears
		 * the probe when a pipeline may have been reset or re-created), so
		 * an unmoved sequence has nothing new.
		 */
		if (lastValue == probe->sequenceValue)
			return false;
		state = ReadSequencePipelineState(pipelineName);
		if (state->sequenceId != sequenceId)
			return true;
	}

	probe->sequenceId = sequenceId;
	probe->sequenceValue = lastValue;

	/* a sequence behind the progress is an error that the run reports */
	if (lastValue == PG_INT64_MIN)
		return state->lastProcessed != state->initialValue;
	return lastValue != state->lastProcessed;
}


void
ResetSequencePipeline(const Pipeline *pipeline)
{
	SequencePipelineState *state = ReadSequencePipelineState(pipeline->name);

	UpdateLastProcessedSequenceNumber(pipeline->name, state->initialValue);
	ForgetNodeGroupProgress(pipeline->name, -1);
}
