/*-------------------------------------------------------------------------
 *
 * sequence.h
 *	  What sequence pipelines check at creation and at every run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SEQUENCE_H
#define INCREMENTAL_SEQUENCE_H

/*
 * Raises an error for a sequence whose values could appear out of order
 * or twice, or that the owner may not read; returns the value just below
 * the first one the sequence can produce (where progress starts).
 */
extern int64 CheckSequenceUsable(Oid sequenceId, Oid ownerId);

/*
 * Finds the table whose writers a sequence pipeline waits for and the
 * sequence it follows, from either one; raises an error when the relation
 * is neither a table owning exactly one sequence nor an owned sequence.
 */
extern void ResolveSourceSequence(Oid relationId, Oid *tableId, Oid *sequenceId);

/* Whether an index (without a predicate) has the column as its first key */
extern bool ColumnLeadsAnIndex(Oid relationId, AttrNumber column);

/* The column that owns a sequence, and its table; InvalidAttrNumber: none */
extern AttrNumber SequenceOwnerColumn(Oid sequenceId, Oid *tableId);

/*
 * Creates a sequence pipeline (maxBatchSize 0: no limit; timeZone NULL:
 * the command runs in the session's TimeZone)
 */
extern void CreateSequencePipeline(const char *pipelineName, Oid sourceRelationId,
								   const char *command, const char *schedule,
								   int64 maxBatchSize, const char *timeZone,
								   bool executeImmediately);

/* Where a sequence pipeline started, and how far it has processed */
extern void ReadSequencePipelineProgress(const char *pipelineName, int64 *initialValue,
										 int64 *lastProcessed);

/*
 * The Citus node groups other than the coordinator's whose values the
 * pipeline has processed (NodeGroupProgress, sequence_node_groups.c)
 */
extern List *OtherNodeGroupsProcessed(const char *pipelineName);

/*
 * Runs a command over the values from .. to as the pipeline's batches run
 * theirs (owner, search_path, time zone), without touching its progress
 */
extern uint64 ExecuteAsSequencePipeline(const char *pipelineName, const char *command,
										int64 from, int64 to);

/* Sets a sequence pipeline's progress, for a layer that did the work itself */
extern void SetSequencePipelineProgress(const char *pipelineName, int64 lastProcessed);

/*
 * The sequence's last value, without taking the lock of nextval(); false
 * before its first value.  The caller checks the privileges.
 */
extern bool ReadSequenceLastValue(Oid sequenceId, int64 *lastValue);

#endif							/* INCREMENTAL_SEQUENCE_H */
