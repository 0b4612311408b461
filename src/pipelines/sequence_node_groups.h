/*-------------------------------------------------------------------------
 *
 * sequence_node_groups.h
 *	  Sequence pipelines over a Citus source: one range per node group.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SEQUENCE_NODE_GROUPS_H
#define INCREMENTAL_SEQUENCE_NODE_GROUPS_H

#include "pipelines/pipeline_kinds.h"

/*
 * One batch of a sequence pipeline whose source is known to Citus, given
 * the pipeline's state and the coordinator's sequence's last value (the
 * state's initial value when it has drawn none).
 */
extern PipelineBatchOutcome ExecuteNodeGroupsBatch(const Pipeline *pipeline,
												   const SequencePipelineState *state,
												   int64 localLastValue,
												   KindRunState *runState,
												   BatchResult *result);

/*
 * The batches the next run would process, several ranges to a batch (one
 * per group with new values), without waiting for writers
 */
extern List *PreviewNodeGroupsBatches(const Pipeline *pipeline,
									  const SequencePipelineState *state,
									  int64 localLastValue, int maxBatches);

/*
 * Moves the progress of the node group whose next value is 'from' to 'to'
 * (skip_range); returns the number of values skipped
 */
extern int64 SkipNodeGroupRange(const Pipeline *pipeline, const SequencePipelineState *state,
								int64 from, int64 to);

#endif							/* INCREMENTAL_SEQUENCE_NODE_GROUPS_H */
