/*-------------------------------------------------------------------------
 *
 * pipeline_chain.h
 *	  Pipelines that run after others (depends_on).
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_CHAIN_H
#define INCREMENTAL_PIPELINE_CHAIN_H

#include "fmgr.h"
#include "utils/array.h"

#include "catalog/pipeline_catalog.h"

/*
 * Makes a pipeline run after the named ones (a text[]; empty: after none),
 * checked: they exist, have its owner, and make no cycle.
 */
extern void SetPipelineDependsOn(const Pipeline *pipeline, ArrayType *dependsOn);

/* SetPipelineDependsOn with a creation function's depends_on argument */
extern void SetDependsOnArgument(FunctionCallInfo fcinfo, int argumentNumber,
								 const char *pipelineName);

/* Refuses to drop a pipeline that others depend on */
extern void RefuseToDropParent(const char *pipelineName);

#endif							/* INCREMENTAL_PIPELINE_CHAIN_H */
