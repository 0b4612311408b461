/*-------------------------------------------------------------------------
 *
 * pipeline_scheduler.h
 *	  incremental.pipelines.scheduled_by, private to src/catalog/.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_SCHEDULER_H
#define INCREMENTAL_PIPELINE_SCHEDULER_H

#include "catalog/pipeline_catalog.h"

extern PipelineScheduler PipelineSchedulerFromText(Datum scheduledBy);

#endif							/* INCREMENTAL_PIPELINE_SCHEDULER_H */
