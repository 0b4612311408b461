/*-------------------------------------------------------------------------
 *
 * pipeline_progress.h
 *	  Progress NOTICEs of a long execute_pipeline.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_PROGRESS_H
#define INCREMENTAL_PIPELINE_PROGRESS_H

#include "datatype/timestamp.h"

/* At most one progress NOTICE this often */
#define PROGRESS_REPORT_INTERVAL_MS 5000

/*
 * Says how far a run has got: its batches and items, the items per second
 * since it started, and, where the kind can tell, what is left and about
 * when it ends.
 */
extern void ReportRunProgress(const char *pipelineName, int batches, int64 items,
							  TimestampTz startedAt, bool done);

#endif							/* INCREMENTAL_PIPELINE_PROGRESS_H */
