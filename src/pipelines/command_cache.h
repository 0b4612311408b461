/*-------------------------------------------------------------------------
 *
 * command_cache.h
 *	  The session's prepared plans of pipeline commands.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_COMMAND_CACHE_H
#define INCREMENTAL_COMMAND_CACHE_H

#include "executor/spi.h"

#include "catalog/pipeline_catalog.h"

/* How many pipelines' commands a session keeps prepared at most */
#define MAX_CACHED_COMMANDS 128

/*
 * The prepared statement of a pipeline's command, parsed and analysed once
 * per session and planned anew for every batch, with its parameters; the
 * caller is connected to SPI and has set the pipeline's search_path.
 */
extern SPIPlanPtr PipelineCommandPlan(const Pipeline *pipeline, int nargs, Oid *argtypes);

#endif							/* INCREMENTAL_COMMAND_CACHE_H */
