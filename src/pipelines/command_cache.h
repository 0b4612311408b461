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
 * and how many prepared statements, each for one size of batch: with its
 * generic plan about 100 kB for a continuous view of ten aggregates
 */
#define MAX_CACHED_PLANS 256

/*
 * Runs the pipeline's command with the batch's parameters through the
 * session's prepared statement for a batch of that size, parsed, analysed
 * and planned once (or planned for every batch, with Citus); the caller is
 * connected to SPI and has set the pipeline's search_path.  Returns SPI's
 * result code.
 */
extern int	ExecuteCachedCommand(const Pipeline *pipeline, int nargs, Oid *argtypes,
								 Datum *values);

#endif							/* INCREMENTAL_COMMAND_CACHE_H */
