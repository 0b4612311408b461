/*-------------------------------------------------------------------------
 *
 * stream_maintenance.c
 *	  incremental._maintain_stream(), the command of a table's maintenance
 *	  pipeline: it removes what every consumer has processed and keeps
 *	  partitions ahead of the writers.
 *
 * Each run, as the table's owner and in the pipeline's transaction:
 *
 *	 1. With an interval, it marks the sequence's last value at this moment,
 *		unless it did less than a hundredth of the interval ago.
 *	 2. It finds what may go: the ids that every consumer has processed,
 *		and, with an interval, that were drawn before the newest mark older
 *		than the interval.
 *	 3. Partitioned, made by create_stream: it moves the rows that outran
 *		the partitions out of DEFAULT (locking DEFAULT only), and creates
 *		the partitions that the next partitions_ahead × partition_size ids
 *		will need.
 *	 4. Partitioned: it drops the partitions all of whose ids may go, under
 *		ACCESS EXCLUSIVE on the table, last, since writers wait for that
 *		lock until the run commits.  Both locks are asked for briefly
 *		(LockRelationBriefly); the consumers are read again once the
 *		table's is granted, since a pipeline created meanwhile may have
 *		started to read the table.  Not partitioned: it deletes what may
 *		go, in bounded batches.
 *
 * A run that cannot get a lock leaves that step for the next run; nothing
 * is removed that it has not decided on under the lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog/stream_catalog.h"
#include "common/relation_name.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/sequence.h"
#include "streams/stream_consumers.h"
#include "streams/stream_partitions.h"
#include "streams/stream_retention.h"

PG_FUNCTION_INFO_V1(incremental_maintain_stream);

/* rows deleted per statement, and statements per run, in a plain table */
#define DELETE_BATCH_IDS 50000
#define DELETE_BATCHES_PER_RUN 20

/*
 * Marks per retention interval at most: an id may then be kept up to
 * 1/MARKS_PER_RETENTION of the interval longer than the interval
 */
#define MARKS_PER_RETENTION 100

/* partitions created per run at most */
#define MAX_PARTITIONS_PER_RUN 64

static bool ReleasableThrough(StreamDefinition *definition, Oid sequenceId,
							  TimestampTz now, int64 *through);
static bool MoveDefaultRows(StreamDefinition *definition);
static int64 DropConsumedPartitions(StreamDefinition *definition, Oid sequenceId,
									TimestampTz now);
static void KeepPartitionsAhead(StreamDefinition *definition, int64 lastValue);
static int64 DeleteConsumedRows(StreamDefinition *definition, Oid sequenceId, TimestampTz now);
static bool DefaultHasRows(Oid defaultId);
static void CheckPartitionsOwned(Oid relationId, const char *pipelineName);


/* incremental._maintain_stream(maintenance_pipeline text) */
Datum
incremental_maintain_stream(PG_FUNCTION_ARGS)
{
	char	   *pipelineName = GetTextArgument(fcinfo, 0, "maintenance_pipeline");
	StreamDefinition *definition = ReadStreamDefinitionOfPipeline(pipelineName);
	Oid			relationId;
	Oid			tableId;
	Oid			sequenceId;
	int64		lastValue = 0;
	int64		removed = 0;
	TimestampTz now;

	if (definition == NULL)
		PG_RETURN_INT64(0);
	relationId = definition->relationId;

	if (!pg_class_ownercheck(relationId, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" does not own table %s, whose retention pipeline \"%s\" "
						"it runs", GetUserNameFromId(GetUserId(), false),
						QualifiedRelationName(relationId), pipelineName),
				 errhint("As the table's owner, run incremental.set_retention on it again "
						 "to take its maintenance over.")));

	if (get_rel_relkind(relationId) == RELKIND_PARTITIONED_TABLE)
		CheckPartitionsOwned(relationId, pipelineName);

	ResolveSourceSequence(relationId, &tableId, &sequenceId);
	(void) ReadSequenceLastValue(sequenceId, &lastValue);
	now = GetCurrentTimestamp();

	if (definition->dropConsumed && definition->keep != NULL)
	{
		TimestampTz cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																	 TimestampTzGetDatum(now),
																	 IntervalPGetDatum(definition->keep)));

		Interval   *spacing = DatumGetIntervalP(DirectFunctionCall2(interval_div,
																	IntervalPGetDatum(definition->keep),
																	Float8GetDatum(MARKS_PER_RETENTION)));
		TimestampTz lastSpaced = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																		 TimestampTzGetDatum(now),
																		 IntervalPGetDatum(spacing)));

		/* marks further apart only keep rows a little longer */
		if (!StreamMarkedSince(relationId, lastSpaced))
			InsertStreamMark(relationId, now, lastValue);
		TrimStreamMarks(relationId, cutoff);
	}

	if (get_rel_relkind(relationId) == RELKIND_PARTITIONED_TABLE)
	{
		bool		defaultReady = true;

		if (definition->partitionSize > 0)
			defaultReady = MoveDefaultRows(definition);
		if (definition->partitionSize > 0 && defaultReady)
			KeepPartitionsAhead(definition, lastValue);

		/* last: writers wait for its lock until the run commits */
		if (definition->dropConsumed)
			removed = DropConsumedPartitions(definition, sequenceId, now);
	}
	else if (definition->dropConsumed)
		removed = DeleteConsumedRows(definition, sequenceId, now);

	PG_RETURN_INT64(removed);
}


/*
 * The highest id that may go, as the consumers and the interval allow;
 * false when nothing may go.
 */
static bool
ReleasableThrough(StreamDefinition *definition, Oid sequenceId, TimestampTz now,
				  int64 *through)
{
	StreamConsumption consumption;

	ReadStreamConsumption(definition->relationId, sequenceId, NIL, &consumption);
	if (!consumption.mayRelease)
		return false;
	*through = consumption.consumedThrough;

	if (definition->keep != NULL)
	{
		TimestampTz cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																	 TimestampTzGetDatum(now),
																	 IntervalPGetDatum(definition->keep)));
		int64		markedValue;

		if (!ReadStreamMarkBefore(definition->relationId, cutoff, &markedValue))
			return false;
		*through = Min(*through, markedValue);
	}
	return true;
}


/* The partitions every one of whose ids may go */
static List *
ReleasablePartitions(List *partitions, int64 through)
{
	List	   *releasable = NIL;
	ListCell   *cell;

	foreach(cell, partitions)
	{
		StreamPartition *partition = lfirst(cell);

		if (partition->boundedAbove && partition->upper - 1 <= through)
			releasable = lappend_oid(releasable, partition->relationId);
	}
	return releasable;
}


/*
 * Locks DEFAULT and moves the rows that outran the partitions out of it,
 * into partitions of their own.  True when DEFAULT is locked and empty, so
 * that partitions can be attached next to it; false when its lock was not
 * granted in time.  The lock comes before the look: a writer whose row
 * goes to DEFAULT holds it until it commits, and the row is then there.
 * Only DEFAULT is locked: writers into the partitions go on meanwhile.
 */
static bool
MoveDefaultRows(StreamDefinition *definition)
{
	Oid			defaultId;
	uint64		moved;

	(void) ReadStreamPartitions(definition->relationId, &defaultId);
	if (!OidIsValid(defaultId))
		return true;
	if (!LockRelationBriefly(defaultId, AccessExclusiveLock))
		return false;
	if (!DefaultHasRows(defaultId))
		return true;

	moved = MoveRowsOutOfDefault(definition->relationId, defaultId, definition->idColumn,
								 definition->partitionSize, MAX_PARTITIONS_PER_RUN);
	ereport(LOG,
			(errmsg("moved %llu rows of stream %s out of its default partition",
					(unsigned long long) moved, QualifiedRelationName(definition->relationId)),
			 errdetail("The writers got ahead of the partitions created for them, or a long "
					   "query kept the maintenance from creating them."),
			 errhint("Keep more partitions ahead: SELECT incremental.alter_stream(%s, "
					 "partitions_ahead => %d);",
					 quote_literal_cstr(QualifiedRelationName(definition->relationId)),
					 Min(definition->partitionsAhead * 2, 1000))));
	return !DefaultHasRows(defaultId);
}


/*
 * Drops the consumed partitions under one ACCESS EXCLUSIVE lock on the
 * table; returns how many.
 */
static int64
DropConsumedPartitions(StreamDefinition *definition, Oid sequenceId, TimestampTz now)
{
	Oid			relationId = definition->relationId;
	Oid			defaultId;
	List	   *partitions = ReadStreamPartitions(relationId, &defaultId);
	List	   *releasable = NIL;
	int64		through;

	if (ReleasableThrough(definition, sequenceId, now, &through))
		releasable = ReleasablePartitions(partitions, through);
	if (releasable == NIL)
		return 0;

	if (!LockRelationBriefly(relationId, AccessExclusiveLock))
	{
		ereport(DEBUG1,
				(errmsg("retention of %s waits for a lock on the table to drop %d partitions",
						QualifiedRelationName(relationId), list_length(releasable))));
		return 0;
	}

	/* what a consumer created before the lock was granted holds, too */
	partitions = ReadStreamPartitions(relationId, &defaultId);
	if (!ReleasableThrough(definition, sequenceId, now, &through))
		return 0;
	releasable = ReleasablePartitions(partitions, through);
	DropPartitions(releasable);
	return list_length(releasable);
}


/*
 * Creates the partitions up to the one that will hold the id
 * partitions_ahead × partition_size above the last one drawn.  Attaching
 * one next to a DEFAULT partition needs DEFAULT locked and empty, which
 * MoveDefaultRows saw to.
 */
static void
KeepPartitionsAhead(StreamDefinition *definition, int64 lastValue)
{
	Oid			relationId = definition->relationId;
	Oid			defaultId;
	List	   *partitions = ReadStreamPartitions(relationId, &defaultId);
	int64		from = HighestPartitionBound(partitions);
	int64		ahead;
	int64		through;

	/* all dropped: start again at the partition of the last id */
	if (partitions == NIL)
		from = lastValue - (((lastValue % definition->partitionSize) +
							 definition->partitionSize) % definition->partitionSize);

	if (pg_mul_s64_overflow(definition->partitionsAhead, definition->partitionSize, &ahead) ||
		pg_add_s64_overflow(lastValue, ahead, &through))
		through = PG_INT64_MAX - definition->partitionSize;
	if (from > through)
		return;

	(void) CreatePartitionsUpTo(relationId, from, through, definition->partitionSize,
								MAX_PARTITIONS_PER_RUN);
}


/*
 * In a table that is not partitioned, deletes the rows that may go, by
 * ranges of DELETE_BATCH_IDS ids from where the last run stopped.
 */
static int64
DeleteConsumedRows(StreamDefinition *definition, Oid sequenceId, TimestampTz now)
{
	int64		through;
	int64		from = definition->deletedThrough;
	int64		deleted = 0;
	char	   *table = QualifiedRelationName(definition->relationId);
	const char *column = quote_identifier(definition->idColumn);

	if (!ReleasableThrough(definition, sequenceId, now, &through) || through <= from)
		return 0;

	for (int batch = 0; batch < DELETE_BATCHES_PER_RUN && from < through; batch++)
	{
		int64		to;

		if (pg_add_s64_overflow(from, DELETE_BATCH_IDS, &to) || to > through)
			to = through;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.>) " INT64_FORMAT
								 " AND %s OPERATOR(pg_catalog.<=) " INT64_FORMAT,
								 table, column, from, column, to),
						false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the consumed rows of %s", table);
		deleted += SPI_processed;
		SPI_finish();
		from = to;
	}

	UpdateStreamDeletedThrough(definition->relationId, from);
	return deleted;
}


static bool
DefaultHasRows(Oid defaultId)
{
	bool		hasRows;

	if (!OidIsValid(defaultId))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT FROM %s LIMIT 1", QualifiedRelationName(defaultId)),
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the default partition %s", get_rel_name(defaultId));
	hasRows = SPI_processed > 0;
	SPI_finish();
	return hasRows;
}


/*
 * The maintenance drops and creates partitions as the table's owner, who
 * must own them: ALTER TABLE ... OWNER TO does not pass a partitioned
 * table's partitions on to the new owner.
 */
static void
CheckPartitionsOwned(Oid relationId, const char *pipelineName)
{
	Oid			defaultId;
	List	   *partitionIds = NIL;
	ListCell   *cell;

	foreach(cell, ReadStreamPartitions(relationId, &defaultId))
		partitionIds = lappend_oid(partitionIds, ((StreamPartition *) lfirst(cell))->relationId);
	if (OidIsValid(defaultId))
		partitionIds = lappend_oid(partitionIds, defaultId);

	foreach(cell, partitionIds)
	{
		Oid			partitionId = lfirst_oid(cell);

		if (!pg_class_ownercheck(partitionId, GetUserId()))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" does not own partition %s of table %s, whose retention "
							"pipeline \"%s\" it runs",
							GetUserNameFromId(GetUserId(), false),
							QualifiedRelationName(partitionId), QualifiedRelationName(relationId),
							pipelineName),
					 errdetail("ALTER TABLE ... OWNER TO does not change the owner of a "
							   "partitioned table's partitions."),
					 errhint("Give every partition to the table's owner: ALTER TABLE %s OWNER TO %s;",
							 QualifiedRelationName(partitionId),
							 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
	}
}
