/*-------------------------------------------------------------------------
 *
 * stream_partitions.h
 *	  The partitions of a table with retention: reading their id ranges,
 *	  creating them ahead of the writers, and dropping consumed ones.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_STREAM_PARTITIONS_H
#define INCREMENTAL_STREAM_PARTITIONS_H

#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"

/* A partition for a range of ids: lower <= id < upper */
typedef struct StreamPartition
{
	Oid			relationId;
	bool		boundedBelow;	/* false: FROM (MINVALUE) */
	bool		boundedAbove;	/* false: TO (MAXVALUE) */
	int64		lower;
	int64		upper;
} StreamPartition;

/* Raises an error unless the table is partitioned by range of the column */
extern void CheckPartitionedById(Oid relationId, AttrNumber idColumn);

/* The range partitions, by lower bound; *defaultId: the DEFAULT one, if any */
extern List *ReadStreamPartitions(Oid relationId, Oid *defaultId);

/* The partitions' upper bound (0 when there are none or one is unbounded) */
extern int64 HighestPartitionBound(List *partitions);

/*
 * Creates partitions of partitionSize ids from 'from' on until one holds
 * 'through', at most maxCount of them; returns how many it created.
 */
extern int	CreatePartitionsUpTo(Oid relationId, int64 from, int64 through,
								 int64 partitionSize, int maxCount);

/*
 * Moves the rows of the DEFAULT partition into new partitions of their
 * range, at most maxPartitions of them; the caller holds AccessExclusiveLock
 * on DEFAULT.  Returns the number of rows moved.
 */
extern uint64 MoveRowsOutOfDefault(Oid relationId, Oid defaultId, const char *idColumn,
								   int64 partitionSize, int maxPartitions);

/* Drops the given partitions; the caller holds AccessExclusiveLock on the table */
extern void DropPartitions(List *partitionIds);

/*
 * Takes a lock on a relation if it is granted within a short wait
 * (STREAM_LOCK_WAIT_MS), so that the writers queued behind the request
 * wait at most that long; false when it was not granted.
 */
extern bool LockRelationBriefly(Oid relationId, LOCKMODE mode);

#define STREAM_LOCK_WAIT_MS 100

/* Runs one utility statement of the streams' DDL */
extern void ExecuteStreamDdl(const char *command);

#endif							/* INCREMENTAL_STREAM_PARTITIONS_H */
