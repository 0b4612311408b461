/*-------------------------------------------------------------------------
 *
 * pipeline_progress.c
 *	  Progress NOTICEs of CALL incremental.execute_pipeline(name, progress
 *	  => true), for a backfill of many batches.
 *
 * The per-batch NOTICE ("processing sequence values from ... to ...")
 * says what each batch does; for a backfill of thousands of batches this
 * says how far the whole run has got, at most every
 * PROGRESS_REPORT_INTERVAL_MS.  What is left is known for sequence
 * pipelines (the sequence's last value minus the progress, shown to a
 * caller who may read the sequence, as pipeline_stats.pending); the rate is
 * the run's own, so the end is estimated from what it did so far.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attnum.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_progress.h"
#include "pipelines/sequence.h"

static bool ItemsToGo(const char *pipelineName, int64 *toGo);


void
ReportRunProgress(const char *pipelineName, int batches, int64 items, TimestampTz startedAt,
				  bool done)
{
	TimestampTz now = GetCurrentTimestamp();
	double		seconds = (double) (now - startedAt) / USECS_PER_SEC;
	double		rate = seconds > 0 ? items / seconds : 0;
	int64		toGo;

	if (done)
		ereport(NOTICE,
				(errmsg("pipeline \"%s\": done, %d batches, " INT64_FORMAT " items in %.1f s "
						"(%.0f items/s)", pipelineName, batches, items, seconds, rate)));
	else if (ItemsToGo(pipelineName, &toGo) && rate > 0)
		ereport(NOTICE,
				(errmsg("pipeline \"%s\": %d batches, " INT64_FORMAT " items in %.1f s "
						"(%.0f items/s); " INT64_FORMAT " items to go, about %.0f s more",
						pipelineName, batches, items, seconds, rate, toGo, toGo / rate)));
	else
		ereport(NOTICE,
				(errmsg("pipeline \"%s\": %d batches, " INT64_FORMAT " items in %.1f s "
						"(%.0f items/s)", pipelineName, batches, items, seconds, rate)));
}


/* The sequence values after a sequence pipeline's progress */
static bool
ItemsToGo(const char *pipelineName, int64 *toGo)
{
	Pipeline   *pipeline = ReadPipeline(pipelineName, true);
	SequencePipelineState *state;
	int64		lastValue;

	if (pipeline == NULL || pipeline->type != PIPELINE_TYPE_SEQUENCE)
		return false;
	state = TryReadSequencePipelineState(pipelineName);

	/* the caller sees the sequence's value only with a right to read it */
	if (state == NULL ||
		pg_class_aclcheck(state->sequenceId, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK ||
		!ReadSequenceLastValue(state->sequenceId, &lastValue))
		return false;
	*toGo = Max(lastValue - state->lastProcessed, 0);
	return true;
}
