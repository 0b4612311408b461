/*-------------------------------------------------------------------------
 *
 * time_interval.h
 *	  Creating time interval pipelines from C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_TIME_INTERVAL_H
#define INCREMENTAL_TIME_INTERVAL_H

#include "catalog/pipeline_catalog.h"

/*
 * Creates a time interval pipeline with the interval, batched and minimum
 * delay of 'given' and, when hasStartTime, its start time (otherwise
 * 2000-01-01 in the session's time zone, for batched pipelines).
 */
extern void CreateTimeIntervalPipeline(const char *pipelineName,
									   const TimeIntervalPipelineState *given,
									   bool hasStartTime, Oid sourceRelationId,
									   const char *command, const char *schedule,
									   bool executeImmediately);

#endif							/* INCREMENTAL_TIME_INTERVAL_H */
