/*-------------------------------------------------------------------------
 *
 * sequence_node_groups.c
 *	  Sequence pipelines over a Citus source: every node group draws its
 *	  own range of sequence values, so progress is kept per group and a
 *	  batch runs the command once per group range, all in one transaction.
 *
 * A batch, in this order:
 *
 *	 1. reads where every group's copy of the sequence stands (the
 *		coordinator's locally, the others' through Citus' connections,
 *		where each node, in the same round trip, then waits for its own
 *		writers, without blocking new ones: citus_nodes.c);
 *	 2. for each group, takes the range after its progress up to that
 *		value, max_batch_size values at most.  A group seen for the first
 *		time starts at the first value its sequence can draw.  A group whose
 *		sequence is below its progress (Citus recreates a node's sequence at
 *		the start of its range when it resyncs the node's metadata) fails
 *		the batch: going on would skip or repeat rows;
 *	 3. waits for the coordinator's writers when its group has a range;
 *		gives up, to try again later, when a group with a range still had
 *		writers after the wait, on its node or here;
 *	 4. runs the command once per range, with the group's first and last
 *		value as $1 and $2, so a user's "BETWEEN $1 AND $2" works as it is,
 *		and records every group's progress.
 *
 * A run through a backlog of the coordinator's group asks the other nodes
 * at most once a second (OTHER_NODES_INTERVAL_MS); the batches between take
 * a whole batch of the coordinator's values alone, which needs no other
 * node: their groups' progress stays where it is.
 *
 * A group whose node does not answer keeps its progress and is left out:
 * writes through a node draw only from that node's range, so the others
 * stay exact meanwhile.  A group that left the cluster (citus_remove_node)
 * gets one last range, to the end of what its sequence could draw, since
 * no node can draw those values any more; its progress then stays at that
 * end, so that a group that came back with a restarted sequence is
 * reported, not processed twice.
 *
 * The coordinator's group keeps its progress in sequence_pipelines, as on
 * a single server; the others in sequence_pipeline_node_groups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog/pipeline_catalog.h"
#include "common/relation_name.h"
#include "distributed/citus_nodes.h"
#include "pipelines/command.h"
#include "pipelines/sequence.h"
#include "pipelines/sequence_node_groups.h"
#include "pipelines/source_writers.h"

/* One group's range in this batch */
typedef struct GroupRange
{
	NodeGroupProgress progress; /* the group, its progress and range end */
	int64		first;
	int64		last;
	bool		more;			/* capped by max_batch_size */
} GroupRange;

/*
 * While the coordinator's group alone has a backlog of whole batches, the
 * other nodes are asked at most this often within a run: each ask costs a
 * round trip through new connections (tens of milliseconds), and their
 * groups need no more than to be taken along now and then.
 */
#define OTHER_NODES_INTERVAL_MS 1000

/* What a run keeps from batch to batch (KindRunState.state) */
typedef struct NodeGroupsRunState
{
	TimestampTz otherNodesAskedAt;	/* 0: not yet in this run */
} NodeGroupsRunState;

/* A group with values after its progress, up to 'end' */
typedef struct GroupWork
{
	NodeGroupProgress progress;
	int64		end;
	NodeSequence *node;			/* NULL: the coordinator, or a departed group */
} GroupWork;

static List *GroupsWithWork(const Pipeline *pipeline, const SequencePipelineState *state,
							int64 localLastValue, List *nodes, bool recordNewGroups);
static bool AskOtherNodes(const SequencePipelineState *state, int64 localLastValue,
						  KindRunState *runState);
static GroupWork *CoordinatorWork(const SequencePipelineState *state, int64 localLastValue);
static GroupWork *NodeWork(const Pipeline *pipeline, const SequencePipelineState *state,
						   NodeSequence *node, List *progressList, bool recordNewGroups);
static NodeGroupProgress *FindGroup(List *progressList, int32 groupId);
static void ReportGroupBehind(const Pipeline *pipeline, Oid sequenceId, NodeSequence *node,
							  int64 lastProcessed);
static GroupRange *WorkRange(const GroupWork *work, int64 maxBatchSize);
static GroupRange *MakeRange(const NodeGroupProgress *group, int64 lastValue,
							 int64 maxBatchSize);
static int64 RetiredRangeEnd(const NodeGroupProgress *group, List *nodes,
							 List *progressList);


PipelineBatchOutcome
ExecuteNodeGroupsBatch(const Pipeline *pipeline, const SequencePipelineState *state,
					   int64 localLastValue, KindRunState *runState, BatchResult *result)
{
	List	   *nodes = NIL;
	List	   *groups;
	List	   *ranges = NIL;
	bool		otherNodesBusy = false;
	bool		localRange = false;
	bool		more = false;
	bool		askedOthers;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	ListCell   *cell;

	askedOthers = AskOtherNodes(state, localLastValue, runState);
	if (askedOthers)
	{
		/* every node reads its sequence, then waits for its writers */
		nodes = ReadOtherNodeSequences(state->sequenceId, pipeline->sourceRelationId,
									   runState->writerWaitMs);
		groups = GroupsWithWork(pipeline, state, localLastValue, nodes, true);
	}
	else
	{
		/* the coordinator's next whole batch alone */
		groups = list_make1(CoordinatorWork(state, localLastValue));
	}

	foreach(cell, groups)
	{
		GroupWork  *work = lfirst(cell);

		ranges = lappend(ranges, WorkRange(work, state->maxBatchSize));
		localRange |= work->progress.groupId == 0;
		if (work->node != NULL)
			otherNodesBusy |= !work->node->writersDone;
	}

	if (ranges == NIL)
		return PIPELINE_BATCH_NO_WORK;

	CheckWaitIsMeaningful(pipeline->name);
	if (otherNodesBusy ||
		(localRange &&
		 !WaitForSourceWriters(pipeline->sourceRelationId, state->sequenceId, DT_NOBEGIN,
							   runState->writerWaitMs)))
	{
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\": writers of its source are still at work",
						pipeline->name)));
		return PIPELINE_BATCH_SOURCE_BUSY;
	}

	if (state->timeZone != NULL)
		SetPipelineTimeZone(state->timeZone);

	foreach(cell, ranges)
	{
		GroupRange *range = lfirst(cell);
		Datum		values[2] = {Int64GetDatum(range->first), Int64GetDatum(range->last)};

		ereport(NOTICE,
				(errmsg("pipeline \"%s\": processing sequence values from " INT64_FORMAT
						" to " INT64_FORMAT " of node group %d", pipeline->name,
						range->first, range->last, range->progress.groupId)));

		result->rowsProcessed += ExecutePipelineCommand(pipeline, 2, argtypes, values);
		result->itemsProcessed += range->last - range->first + 1;
		if (result->rangeStart == NULL)
			result->rangeStart = psprintf(INT64_FORMAT, range->first);
		result->rangeEnd = psprintf(INT64_FORMAT, range->last);
		more |= range->more;

		range->progress.lastProcessed = range->last;
		if (range->progress.groupId == 0)
			UpdateLastProcessedSequenceNumber(pipeline->name, range->last);
		else
			WriteNodeGroupProgress(pipeline->name, &range->progress);
	}

	/* without asking the other nodes, the run cannot tell it is done */
	return more || !askedOthers ? PIPELINE_BATCH_MORE : PIPELINE_BATCH_DONE;
}


/*
 * AskOtherNodes: whether this batch reads the other nodes' sequences.  It
 * does unless the coordinator's group has a whole batch to go and the run
 * asked them less than OTHER_NODES_INTERVAL_MS ago.
 */
static bool
AskOtherNodes(const SequencePipelineState *state, int64 localLastValue,
			  KindRunState *runState)
{
	NodeGroupsRunState *groupsState = runState->state;
	TimestampTz now = GetCurrentTimestamp();
	bool		ask;

	if (groupsState == NULL)
	{
		groupsState = MemoryContextAllocZero(runState->runContext,
											 sizeof(NodeGroupsRunState));
		runState->state = groupsState;
	}

	ask = state->maxBatchSize <= 0 ||
		localLastValue - state->lastProcessed < state->maxBatchSize ||
		groupsState->otherNodesAskedAt == 0 ||
		TimestampDifferenceExceeds(groupsState->otherNodesAskedAt, now,
								   OTHER_NODES_INTERVAL_MS);
	if (ask)
		groupsState->otherNodesAskedAt = now;
	return ask;
}


/*
 * GroupsWithWork: the coordinator's group, the other nodes' and those that
 * left the cluster, each with the values after its progress, in that
 * order; only those with new values.  recordNewGroups: a group seen for the
 * first time gets its progress row now (see NodeWork).
 */
static List *
GroupsWithWork(const Pipeline *pipeline, const SequencePipelineState *state,
			   int64 localLastValue, List *nodes, bool recordNewGroups)
{
	List	   *progressList = ReadNodeGroupProgress(pipeline->name);
	List	   *groups = NIL;
	ListCell   *cell;

	if (localLastValue > state->lastProcessed)
		groups = lappend(groups, CoordinatorWork(state, localLastValue));

	foreach(cell, nodes)
	{
		GroupWork  *work = NodeWork(pipeline, state, lfirst(cell), progressList,
									recordNewGroups);

		if (work != NULL)
			groups = lappend(groups, work);
	}

	/* groups that left the cluster: the rest of their range, once */
	foreach(cell, progressList)
	{
		NodeGroupProgress *group = lfirst(cell);
		bool		present = false;
		ListCell   *nodeCell;

		foreach(nodeCell, nodes)
			present |= ((NodeSequence *) lfirst(nodeCell))->groupId == group->groupId;
		if (!present)
		{
			int64		end = RetiredRangeEnd(group, nodes, progressList);

			if (group->lastProcessed < end)
			{
				GroupWork  *work = palloc0(sizeof(GroupWork));

				work->progress = *group;
				work->end = end;
				groups = lappend(groups, work);
			}
		}
	}
	return groups;
}


/* The coordinator's group, up to its sequence's last value */
static GroupWork *
CoordinatorWork(const SequencePipelineState *state, int64 localLastValue)
{
	GroupWork  *coordinator = palloc0(sizeof(GroupWork));

	coordinator->progress.lastProcessed = state->lastProcessed;
	coordinator->progress.minValue = state->initialValue + 1;
	coordinator->progress.maxValue = PG_INT64_MAX;
	coordinator->end = localLastValue;
	return coordinator;
}


/*
 * NodeWork: one node's group, NULL when it has no new values.  A group
 * seen for the first time starts at the value before its first; when
 * recording, it gets its progress row now, so that its range end is known
 * if it leaves.
 */
static GroupWork *
NodeWork(const Pipeline *pipeline, const SequencePipelineState *state, NodeSequence *node,
		 List *progressList, bool recordNewGroups)
{
	NodeGroupProgress *group = FindGroup(progressList, node->groupId);
	GroupWork  *work;
	int64		lastProcessed;

	if (!node->reachable)
	{
		ereport(WARNING,
				(errmsg("pipeline \"%s\" leaves out node group %d: node %s:%d did not answer",
						pipeline->name, node->groupId, node->nodeName, node->nodePort),
				 errdetail("%s", node->error),
				 errhint("Rows written through that node are processed once it answers "
						 "again; the other groups are processed meanwhile.")));
		return NULL;
	}

	if (group == NULL)
	{
		group = palloc0(sizeof(NodeGroupProgress));
		group->groupId = node->groupId;
		group->lastProcessed = node->minValue - 1;
		group->minValue = node->minValue;
		group->maxValue = node->maxValue;
		if (recordNewGroups)
			WriteNodeGroupProgress(pipeline->name, group);
	}
	lastProcessed = group->lastProcessed;

	if (node->hasValue ? node->lastValue < lastProcessed : lastProcessed >= node->minValue)
		ReportGroupBehind(pipeline, state->sequenceId, node, lastProcessed);
	if (!node->hasValue || node->lastValue == lastProcessed)
		return NULL;

	work = palloc0(sizeof(GroupWork));
	work->progress = *group;
	work->end = node->lastValue;
	work->node = node;
	return work;
}


/*
 * PreviewNodeGroupsBatches: what the next run would process, batch by
 * batch, each batch holding a range of every group with new values, as
 * ExecuteNodeGroupsBatch takes them.  Reads the other nodes' sequences,
 * waits for no writer and records nothing.
 */
List *
PreviewNodeGroupsBatches(const Pipeline *pipeline, const SequencePipelineState *state,
						 int64 localLastValue, int maxBatches)
{
	List	   *nodes = ReadOtherNodeSequences(state->sequenceId, InvalidOid, 0);
	List	   *groups = GroupsWithWork(pipeline, state, localLastValue, nodes, false);
	List	   *batches = NIL;

	for (int batch = 1; batch <= maxBatches && groups != NIL; batch++)
	{
		List	   *unfinished = NIL;
		ListCell   *cell;

		foreach(cell, groups)
		{
			GroupWork  *work = lfirst(cell);
			GroupRange *range = WorkRange(work, state->maxBatchSize);
			BatchPreview *preview = palloc0(sizeof(BatchPreview));

			preview->batch = batch;
			preview->first = psprintf(INT64_FORMAT, range->first);
			preview->last = psprintf(INT64_FORMAT, range->last);
			preview->items = range->last - range->first + 1;
			preview->arguments = list_make2(preview->first, preview->last);
			batches = lappend(batches, preview);

			work->progress.lastProcessed = range->last;
			if (range->more)
				unfinished = lappend(unfinished, work);
		}
		groups = unfinished;
	}
	return batches;
}


/*
 * SkipNodeGroupRange: skip_range for another node group than the
 * coordinator's.  The range starts where the group's next batch would, and
 * ends at or below what its node's sequence has drawn, so that no row not
 * written yet is skipped.
 */
int64
SkipNodeGroupRange(const Pipeline *pipeline, const SequencePipelineState *state,
				   int64 from, int64 to)
{
	List	   *nodes = ReadOtherNodeSequences(state->sequenceId, InvalidOid, 0);
	List	   *progressList = ReadNodeGroupProgress(pipeline->name);
	ListCell   *cell;

	foreach(cell, nodes)
	{
		NodeSequence *node = lfirst(cell);
		NodeGroupProgress *group = FindGroup(progressList, node->groupId);
		NodeGroupProgress skipped = {0};

		if (group != NULL)
			skipped = *group;
		else
		{
			skipped.groupId = node->groupId;
			skipped.lastProcessed = node->minValue - 1;
			skipped.minValue = node->minValue;
			skipped.maxValue = node->maxValue;
		}
		if (!node->reachable || from != skipped.lastProcessed + 1)
			continue;

		if (to < from)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the range to skip ends before it starts")));
		if (!node->hasValue || to > node->lastValue)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sequence of pipeline \"%s\" on node %s:%d has not reached "
							INT64_FORMAT " yet", pipeline->name, node->nodeName, node->nodePort,
							to),
					 node->hasValue ?
					 errdetail("Its last value there is " INT64_FORMAT "; a skip cannot reach "
							   "ahead of it, or rows not written yet would be lost.",
							   node->lastValue) :
					 errdetail("It has drawn no value there yet.")));

		skipped.lastProcessed = to;
		WriteNodeGroupProgress(pipeline->name, &skipped);
		return to - from + 1;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("no node group of pipeline \"%s\" would process " INT64_FORMAT " next",
					pipeline->name, from),
			 errdetail("A skip moves the progress of one node group forward: it starts where "
					   "that group's next batch would; the coordinator's would process "
					   INT64_FORMAT " next.", state->lastProcessed + 1),
			 errhint("incremental.preview_pipeline shows the next batches of every group.")));
	return 0;					/* keep the compiler quiet */
}


/*
 * RetiredRangeEnd: where the rest of a departed group's range ends.  Citus
 * gives each group's sequence a MAXVALUE one past its range, the next
 * group's first value, so the end stays below every other group's first
 * value.
 */
static int64
RetiredRangeEnd(const NodeGroupProgress *group, List *nodes, List *progressList)
{
	int64		end = group->maxValue;
	ListCell   *cell;

	foreach(cell, nodes)
	{
		NodeSequence *node = lfirst(cell);

		if (node->reachable && node->minValue > group->minValue && node->minValue <= end)
			end = node->minValue - 1;
	}
	foreach(cell, progressList)
	{
		NodeGroupProgress *other = lfirst(cell);

		if (other->minValue > group->minValue && other->minValue <= end)
			end = other->minValue - 1;
	}
	return end;
}


/*
 * WorkRange: a group's range in the next batch, max_batch_size values at
 * most, but for a departed group, whose rest is one range whatever its
 * length.  It carries what the node had drawn, for pipeline_stats' pending
 * values.
 */
static GroupRange *
WorkRange(const GroupWork *work, int64 maxBatchSize)
{
	bool		departed = work->progress.groupId != 0 && work->node == NULL;
	GroupRange *range = MakeRange(&work->progress, work->end, departed ? 0 : maxBatchSize);

	range->progress.hasLastSeen = work->node != NULL;
	range->progress.lastSeen = work->end;
	return range;
}


static GroupRange *
MakeRange(const NodeGroupProgress *group, int64 lastValue, int64 maxBatchSize)
{
	GroupRange *range = palloc0(sizeof(GroupRange));

	range->progress = *group;
	range->first = group->lastProcessed + 1;
	range->last = lastValue;
	if (maxBatchSize > 0 && range->last - range->first >= maxBatchSize)
	{
		range->last = range->first + maxBatchSize - 1;
		range->more = true;
	}
	return range;
}


static NodeGroupProgress *
FindGroup(List *progressList, int32 groupId)
{
	ListCell   *cell;

	foreach(cell, progressList)
	{
		NodeGroupProgress *group = lfirst(cell);

		if (group->groupId == groupId)
			return group;
	}
	return NULL;
}


/*
 * ReportGroupBehind: a node's sequence below the group's progress, as after
 * Citus resynced the node's metadata and recreated its sequence at the
 * start of the group's range.  Values up to the progress would be drawn
 * again, for new rows, and skipped; the user must say what moves.
 */
static void
ReportGroupBehind(const Pipeline *pipeline, Oid sequenceId, NodeSequence *node,
				  int64 lastProcessed)
{
	char	   *sequenceName = get_rel_name(sequenceId);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("sequence \"%s\" on node %s:%d is behind the progress of pipeline \"%s\"",
					sequenceName, node->nodeName, node->nodePort, pipeline->name),
			 node->hasValue ?
			 errdetail("The pipeline has processed values up to " INT64_FORMAT " of node "
					   "group %d, but the node's sequence is back at " INT64_FORMAT "; rows "
					   "with values up to " INT64_FORMAT " would be skipped.",
					   lastProcessed, node->groupId, node->lastValue, lastProcessed) :
			 errdetail("The pipeline has processed values up to " INT64_FORMAT " of node "
					   "group %d, but the node's sequence was recreated and has drawn none; "
					   "rows with values up to " INT64_FORMAT " would be skipped.",
					   lastProcessed, node->groupId, lastProcessed),
			 errhint("On node %s:%d, move the sequence past the progress with SELECT "
					 "setval(%s, " INT64_FORMAT "); or start over with SELECT "
					 "incremental.reset_pipeline(%s).",
					 node->nodeName, node->nodePort,
					 quote_literal_cstr(QualifiedRelationName(sequenceId)), lastProcessed,
					 quote_literal_cstr(pipeline->name))));
}


/*
 * OtherNodeGroupsProcessed: the node groups, other than the coordinator's,
 * whose progress has passed their first value.
 */
List *
OtherNodeGroupsProcessed(const char *pipelineName)
{
	List	   *processed = NIL;
	ListCell   *cell;

	foreach(cell, ReadNodeGroupProgress(pipelineName))
	{
		NodeGroupProgress *group = lfirst(cell);

		if (group->lastProcessed >= group->minValue)
			processed = lappend(processed, group);
	}
	return processed;
}
