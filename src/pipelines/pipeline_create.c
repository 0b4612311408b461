/*-------------------------------------------------------------------------
 *
 * pipeline_create.c
 *	  The steps every create_*_pipeline function shares.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "catalog/pipeline_catalog.h"
#include "distributed/citus_nodes.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_create.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_owners.h"
#include "pipelines/pipeline_run.h"


/*
 * BeginPipelineCreation checks what every new pipeline needs, records its
 * row in incremental.pipelines, and returns it.  The pipeline's lock is
 * held from before the check for a duplicate name, so two sessions
 * creating the same pipeline get a clear error rather than a unique
 * violation.
 */
Pipeline *
BeginPipelineCreation(const char *pipelineName, PipelineType type, Oid sourceRelationId,
					  const char *command, const char *schedule, int nargs, Oid *argtypes)
{
	Pipeline   *pipeline;

	if (pipelineName[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline_name cannot be empty")));

	if (strlen(pipelineName) > MAX_PIPELINE_NAME_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("pipeline name is too long"),
				 errdetail("The name is %zu bytes long; pipeline names are at most %d bytes.",
						   strlen(pipelineName), MAX_PIPELINE_NAME_BYTES),
				 errhint("Choose a shorter name.")));

	RefuseOnCitusWorkerNode("create a pipeline");

	(void) LockPipeline(pipelineName, false);

	/* as recording a dependency would, so that DROP ROLE sees the pipeline */
	LockPipelineOwner(GetUserId());

	/*
	 * As a statement that reads the source would, so that a DROP TABLE in
	 * progress either finishes first (and the source is gone) or sees the
	 * pipeline and drops it along.
	 */
	if (OidIsValid(sourceRelationId))
	{
		LockRelationOid(sourceRelationId, AccessShareLock);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(sourceRelationId)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("the source table of pipeline \"%s\" was dropped while the pipeline was being created",
							pipelineName)));
	}

	if (ReadPipeline(pipelineName, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pipeline \"%s\" already exists", pipelineName),
				 errhint("Choose another name, or drop the existing pipeline with "
						 "incremental.drop_pipeline first.")));

	if (schedule != NULL)
		CheckPipelineSchedule(schedule);
	ValidatePipelineCommand(command, nargs, argtypes);

	pipeline = palloc0(sizeof(Pipeline));
	pipeline->name = pstrdup(pipelineName);
	pipeline->type = type;
	pipeline->ownerId = GetUserId();
	pipeline->sourceRelationId = sourceRelationId;
	pipeline->command = pstrdup(command);
	pipeline->searchPath = GetConfigOptionByName("search_path", NULL, false);
	pipeline->schedule = schedule != NULL ? pstrdup(schedule) : NULL;
	pipeline->paused = false;

	InsertPipeline(pipeline);

	return pipeline;
}


/*
 * FinishPipelineCreation runs once the kind's own rows are in place: it
 * tells the layers above, and processes the existing data if asked to.
 */
void
FinishPipelineCreation(const Pipeline *pipeline, bool executeImmediately)
{
	FirePipelineEvent(PIPELINE_EVENT_CREATED, pipeline);

	if (executeImmediately)
		ExecutePipelineToCompletion(pipeline->name, false, false);
}
