/*-------------------------------------------------------------------------
 *
 * pipeline_create.h
 *	  The steps every create_*_pipeline function shares.
 *
 * A kind's create function checks its own arguments, then calls
 * BeginPipelineCreation (which checks and records what every pipeline
 * has), records the kind's own row, and calls FinishPipelineCreation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_CREATE_H
#define INCREMENTAL_PIPELINE_CREATE_H

#include "catalog/pipeline_catalog.h"

/*
 * The longest pipeline name, in bytes.  Names are keys, shown in logs and
 * pg_stat_activity, and part of pg_cron job names: long enough for a
 * schema-qualified view name, short enough for every index.
 */
#define MAX_PIPELINE_NAME_BYTES 255

extern Pipeline *BeginPipelineCreation(const char *pipelineName, PipelineType type,
									   Oid sourceRelationId, const char *command,
									   const char *schedule, int nargs, Oid *argtypes);
extern void FinishPipelineCreation(const Pipeline *pipeline, bool executeImmediately);

#endif							/* INCREMENTAL_PIPELINE_CREATE_H */
