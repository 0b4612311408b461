/*-------------------------------------------------------------------------
 *
 * pipeline_dependency_catalog.h
 *	  incremental.pipeline_dependencies: which pipelines run after which.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_DEPENDENCY_CATALOG_H
#define INCREMENTAL_PIPELINE_DEPENDENCY_CATALOG_H

#include "nodes/pg_list.h"

/* A row: pipelineName runs after dependsOn */
typedef struct PipelineDependency
{
	char	   *pipelineName;
	char	   *dependsOn;
} PipelineDependency;

/* Every dependency, read under a fresh snapshot */
extern List *ReadAllPipelineDependencies(void);

/* The names of the pipelines a pipeline depends on, or that depend on it */
extern List *ReadPipelineParents(const char *pipelineName);
extern List *ReadPipelineChildren(const char *pipelineName);

/*
 * Locks the dependencies against other changes until the transaction
 * ends, so that two sessions cannot each add half of a cycle.
 */
extern void LockPipelineDependencies(void);

/* Makes a pipeline depend on exactly these (a List of names) */
extern void ReplacePipelineParents(const char *pipelineName, List *parents);

#endif							/* INCREMENTAL_PIPELINE_DEPENDENCY_CATALOG_H */
