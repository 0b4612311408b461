/*-------------------------------------------------------------------------
 *
 * pipeline_probe.h
 *	  A cheap look at whether a pipeline may have something to process,
 *	  so that a scheduler can skip the run of one that certainly has not.
 *
 * The look takes no pipeline lock, waits for no lock and writes nothing;
 * many pipelines can be looked at in one read-only transaction.  Its
 * answer is a hint: "may have work" is confirmed or refuted by the run
 * itself, and "no work" holds only as of the look.  File list pipelines
 * always may have work: listing the files is the run's own work.
 *
 * A look that found nothing leaves a PipelineProbe behind, which makes the
 * next look cheaper still: it reads no catalog row as long as the sequence
 * has not moved or the next interval has not ended.  That shortcut assumes
 * progress only moves forward; whoever keeps a PipelineProbe must clear it
 * (valid = false) when a pipeline may have been reset, recreated or
 * restored.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_PROBE_H
#define INCREMENTAL_PIPELINE_PROBE_H

#include "catalog/pipeline_catalog.h"

/* What a look that found nothing saw */
typedef struct PipelineProbe
{
	bool		valid;			/* false: nothing known, read the catalog */
	Oid			sequenceId;		/* sequence pipelines: the sequence... */
	int64		sequenceValue;	/* ...and its last value at the look */
	TimestampTz workAt;			/* time interval pipelines: nothing before */
} PipelineProbe;

/*
 * False when the pipeline certainly has nothing to process at 'now'.
 * Runs in the caller's transaction; raises an error if the pipeline's
 * progress row is gone (it was dropped meanwhile).  'probe' carries what
 * the previous look saw, and receives what this one saw.
 */
extern bool PipelineMayHaveWork(const char *pipelineName, PipelineType type,
								TimestampTz now, PipelineProbe *probe);

#endif							/* INCREMENTAL_PIPELINE_PROBE_H */
