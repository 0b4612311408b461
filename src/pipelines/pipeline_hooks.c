/*-------------------------------------------------------------------------
 *
 * pipeline_hooks.c
 *	  Telling the layers above what happened to a pipeline.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pipelines/pipeline_hooks.h"

pipeline_event_hook_type pipeline_event_hook = NULL;


void
FirePipelineEvent(PipelineEvent event, const Pipeline *pipeline)
{
	if (pipeline_event_hook != NULL)
		pipeline_event_hook(event, pipeline->name, pipeline->schedule);
}
