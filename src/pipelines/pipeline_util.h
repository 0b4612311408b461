/*-------------------------------------------------------------------------
 *
 * pipeline_util.h
 *	  Checks shared by the SQL-callable functions of all pipeline kinds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_PIPELINE_UTIL_H
#define INCREMENTAL_PIPELINE_UTIL_H

#include "fmgr.h"

#include "catalog/pipeline_catalog.h"

extern char *GetTextArgument(FunctionCallInfo fcinfo, int argumentNumber,
							 const char *argumentName);
extern void CheckArgumentNotNull(FunctionCallInfo fcinfo, int argumentNumber,
								 const char *argumentName);
extern void CheckPipelinePermission(const Pipeline *pipeline, const char *action);
extern Pipeline *LockAndReadPipeline(const char *pipelineName, const char *action);

/* Creating a pipeline: the common part, then the kind's own rows */
extern Pipeline *BeginPipelineCreation(const char *pipelineName, PipelineType type,
									   Oid sourceRelationId, const char *command,
									   const char *schedule, int nargs, Oid *argtypes);
extern void FinishPipelineCreation(const Pipeline *pipeline, bool executeImmediately);

#endif							/* INCREMENTAL_PIPELINE_UTIL_H */
