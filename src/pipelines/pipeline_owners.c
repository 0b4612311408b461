/*-------------------------------------------------------------------------
 *
 * pipeline_owners.c
 *	  The pipelines a role owns, for DROP ROLE, REASSIGN OWNED and DROP
 *	  OWNED.
 *
 * A pipeline is a row of ours, not a PostgreSQL object, so pg_shdepend
 * knows nothing of its owner and DROP ROLE would leave it orphaned.  The
 * scheduler's utility hook therefore asks here: a role that owns pipelines
 * cannot be dropped; REASSIGN OWNED gives its pipelines to the new role,
 * and DROP OWNED drops them, in the current database, as both do for
 * objects.  Creating a pipeline locks its owner the way recording a
 * dependency does, so that a concurrent DROP ROLE either sees the new
 * pipeline or makes its creation fail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/pg_authid.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "catalog/catalog_version.h"
#include "catalog/pipeline_catalog.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/pipeline_lock.h"
#include "pipelines/pipeline_owners.h"


bool
PipelineCatalogReadable(void)
{
	return OidIsValid(IncrementalExtensionId()) && InstalledVersionMatchesLibrary();
}


List *
PipelinesOwnedBy(Oid roleId)
{
	List	   *names = NIL;
	ListCell   *cell;

	foreach(cell, ReadAllPipelines())
	{
		Pipeline   *pipeline = lfirst(cell);

		if (pipeline->ownerId == roleId)
			names = lappend(names, pipeline->name);
	}
	return names;
}


void
LockPipelineOwner(Oid roleId)
{
	shdepLockAndCheckObject(AuthIdRelationId, roleId);
}


/*
 * ReassignPipeline gives the pipeline to newOwnerId, if oldOwnerId still
 * owns it once its lock is held, and returns it as it is now; NULL when it
 * was dropped or given away meanwhile.
 */
Pipeline *
ReassignPipeline(const char *pipelineName, Oid oldOwnerId, Oid newOwnerId)
{
	Pipeline   *pipeline;

	(void) LockPipeline(pipelineName, false);
	pipeline = ReadPipeline(pipelineName, true);
	if (pipeline == NULL || pipeline->ownerId != oldOwnerId)
		return NULL;

	LockPipelineOwner(newOwnerId);
	SetPipelineOwner(pipelineName, newOwnerId);
	pipeline->ownerId = newOwnerId;
	return pipeline;
}


/* DropPipelinesOwnedBy drops the role's pipelines in this database */
void
DropPipelinesOwnedBy(Oid roleId)
{
	ListCell   *cell;

	foreach(cell, PipelinesOwnedBy(roleId))
	{
		char	   *pipelineName = lfirst(cell);
		Pipeline   *pipeline;

		(void) LockPipeline(pipelineName, false);
		pipeline = ReadPipeline(pipelineName, true);
		if (pipeline == NULL || pipeline->ownerId != roleId)
			continue;

		DeletePipeline(pipelineName);
		FirePipelineEvent(PIPELINE_EVENT_DROPPED, pipeline);
	}
}
