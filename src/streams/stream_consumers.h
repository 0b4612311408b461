/*-------------------------------------------------------------------------
 *
 * stream_consumers.h
 *	  The pipelines that read a table with retention, and how far all of
 *	  them have got.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_STREAM_CONSUMERS_H
#define INCREMENTAL_STREAM_CONSUMERS_H

#include "nodes/pg_list.h"

/* A pipeline whose source is the table */
typedef struct StreamConsumer
{
	char	   *pipelineName;
	bool		tracksIds;		/* a sequence pipeline on the table's ids */
	int64		processedThrough;	/* tracksIds: the highest id processed */
} StreamConsumer;

/* What the consumers of a table allow to go */
typedef struct StreamConsumption
{
	List	   *consumers;		/* StreamConsumer, by name */
	bool		mayRelease;		/* false: every row must be kept */
	int64		consumedThrough;	/* mayRelease: every id at or below this
									 * has been processed by every consumer */
	List	   *holders;		/* names of the consumers that hold rows back */
	const char *holdReason;		/* why they do */
	List	   *ignored;		/* names of those whose owner may not read it */
} StreamConsumption;

extern void ReadStreamConsumption(Oid relationId, Oid sequenceId, List *pipelines,
								  StreamConsumption *consumption);

#endif							/* INCREMENTAL_STREAM_CONSUMERS_H */
