/*-------------------------------------------------------------------------
 *
 * stream_catalog.h
 *	  incremental.stream_definitions and incremental.stream_marks: which
 *	  tables keep their rows only until their pipelines processed them,
 *	  and how.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_STREAM_CATALOG_H
#define INCREMENTAL_STREAM_CATALOG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* A row of incremental.stream_definitions */
typedef struct StreamDefinition
{
	Oid			relationId;
	char	   *idColumn;		/* the column consumers track */
	bool		dropConsumed;	/* false: every row is kept */
	Interval   *keep;			/* NULL: consumed rows go at once */
	int64		partitionSize;	/* 0: this extension creates no partitions */
	int32		partitionsAhead;
	char	   *maintenancePipelineName;
	int64		deletedThrough; /* not partitioned: ids at or below are gone */
	bool		hasDeletedThrough;
} StreamDefinition;

extern void InsertStreamDefinition(const StreamDefinition *definition);
extern StreamDefinition *ReadStreamDefinition(Oid relationId);
extern StreamDefinition *ReadStreamDefinitionOfPipeline(const char *pipelineName);
extern List *ReadAllStreamDefinitions(void);
extern void UpdateStreamRetention(Oid relationId, bool dropConsumed, Interval *keep);
extern void UpdateStreamPartitionsAhead(Oid relationId, int32 partitionsAhead);
extern void UpdateStreamDeletedThrough(Oid relationId, int64 deletedThrough);
extern void DeleteStreamDefinition(Oid relationId);
extern Oid	StreamOfPipeline(const char *pipelineName);

extern void InsertStreamMark(Oid relationId, TimestampTz markedAt, int64 lastValue);
extern bool ReadStreamMarkBefore(Oid relationId, TimestampTz cutoff, int64 *lastValue);
extern void TrimStreamMarks(Oid relationId, TimestampTz cutoff);
extern bool StreamMarkedSince(Oid relationId, TimestampTz since);

#endif							/* INCREMENTAL_STREAM_CATALOG_H */
