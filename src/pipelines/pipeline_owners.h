/*-------------------------------------------------------------------------
 *
 * pipeline_owners.h
 *	  The pipelines a role owns, for DROP ROLE, REASSIGN OWNED and DROP
 *	  OWNED.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_OWNERS_H
#define INCREMENTAL_PIPELINE_OWNERS_H

#include "nodes/pg_list.h"

#include "catalog/pipeline_catalog.h"

/* Whether this database has a catalog of ours to look in */
extern bool PipelineCatalogReadable(void);

/* The names of the pipelines the role owns in this database */
extern List *PipelinesOwnedBy(Oid roleId);

/*
 * Locks the role against DROP ROLE until the end of the transaction and
 * checks that it still exists, as core does before it records a
 * dependency on a role.
 */
extern void LockPipelineOwner(Oid roleId);

extern Pipeline *ReassignPipeline(const char *pipelineName, Oid oldOwnerId, Oid newOwnerId);
extern void DropPipelinesOwnedBy(Oid roleId);

#endif							/* INCREMENTAL_PIPELINE_OWNERS_H */
