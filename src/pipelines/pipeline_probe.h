/*-------------------------------------------------------------------------
 *
 * pipeline_probe.h
 *	  A cheap look at whether a pipeline may have something to process,
 *	  so that a scheduler can skip the run of one that certainly has not.
 *
 * The look takes no pipeline lock, waits for no lock and writes nothing;
 * many pipelines can be looked at in one read-only transaction.  Its
 * answer is a hint: "may have work" is confirmed or refuted by the run
 * itself, and "no work" holds only as of the look (progress and new data
 * are read under the latest snapshot, so a reset or a manual run is seen
 * at once).  File list pipelines always may have work: listing the files
 * is the run's own work.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_PROBE_H
#define INCREMENTAL_PIPELINE_PROBE_H

#include "catalog/pipeline_catalog.h"

/*
 * False when the pipeline certainly has nothing to process at 'now'.
 * Runs in the caller's transaction; raises an error if the pipeline's
 * progress row is gone (it was dropped meanwhile).
 */
extern bool PipelineMayHaveWork(const char *pipelineName, PipelineType type,
								TimestampTz now);

#endif							/* INCREMENTAL_PIPELINE_PROBE_H */
