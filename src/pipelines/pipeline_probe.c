/*-------------------------------------------------------------------------
 *
 * pipeline_probe.c
 *	  Asking each pipeline kind whether a run could find anything new.
 *
 * A scheduler that checks a thousand pipelines every second cannot give
 * each check a transaction of its own, a pipeline lock and a wait for
 * writers; the kinds answer from their progress row and the sequence or
 * clock instead (see pipeline_probe.h for what the answer promises).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pipelines/pipeline_kinds.h"
#include "pipelines/pipeline_probe.h"

bool
PipelineMayHaveWork(const char *pipelineName, PipelineType type, TimestampTz now,
					PipelineProbe *probe)
{
	bool		mayHaveWork = true;

	switch (type)
	{
		case PIPELINE_TYPE_SEQUENCE:
			mayHaveWork = SequencePipelineMayHaveWork(pipelineName, probe);
			break;
		case PIPELINE_TYPE_TIME_INTERVAL:
			mayHaveWork = TimeIntervalPipelineMayHaveWork(pipelineName, now, probe);
			break;
		case PIPELINE_TYPE_FILE_LIST:
			break;
	}

	probe->valid = !mayHaveWork;
	return mayHaveWork;
}
