/*-------------------------------------------------------------------------
 *
 * stream_partitions.c
 *	  Partitions of a table with retention, by ranges of its ids.
 *
 * Writers must never wait for partition DDL, nor fail for a missing
 * partition.  So a new partition is created as a table of its own and then
 * attached, which locks the partitioned table in SHARE UPDATE EXCLUSIVE
 * mode only: INSERT and COPY (ROW EXCLUSIVE) go on meanwhile.  Partitions
 * are created ahead of the sequence (the maintenance pipeline keeps
 * partitions_ahead of them in front of its last value), and a DEFAULT
 * partition takes the rows that outrun them; the next maintenance moves
 * those into partitions of their own.
 *
 * Dropping a partition needs ACCESS EXCLUSIVE on the partitioned table:
 * writers queue behind the request.  Attaching one, and moving rows out of
 * DEFAULT, need ACCESS EXCLUSIVE on DEFAULT, which a query over the whole
 * table (or pg_dump) holds a lock on.  LockRelationBriefly bounds the
 * queueing to STREAM_LOCK_WAIT_MS; when a lock is not granted by then, the
 * work waits for the next run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/int.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "streams/stream_partitions.h"

static bool ReadPartitionBound(Oid partitionId, StreamPartition *partition, bool *isDefault);
static int64 BoundValue(PartitionRangeDatum *datum, bool *bounded);
static int	ComparePartitions(const ListCell *a, const ListCell *b);
static char *CreatePartitionTable(Oid relationId, int64 lower);
static void AttachPartition(Oid relationId, const char *partitionName, int64 lower,
							int64 upper);
static char *QualifiedName(Oid relationId);


void
CheckPartitionedById(Oid relationId, AttrNumber idColumn)
{
	Relation	relation = table_open(relationId, AccessShareLock);
	PartitionKey key = RelationGetPartitionKey(relation);

	if (key == NULL || get_partition_strategy(key) != PARTITION_STRATEGY_RANGE ||
		get_partition_natts(key) != 1 || get_partition_col_attnum(key, 0) != idColumn)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" is not partitioned by range of its column \"%s\"",
						RelationGetRelationName(relation),
						get_attname(relationId, idColumn, false)),
				 errdetail("Retention drops the partitions whose ids every consumer has "
						   "processed, so the partitions must be ranges of those ids."),
				 errhint("Partition the table BY RANGE (%s), or use a table that is not "
						 "partitioned, whose consumed rows are deleted.",
						 quote_identifier(get_attname(relationId, idColumn, false)))));
	table_close(relation, AccessShareLock);
}


List *
ReadStreamPartitions(Oid relationId, Oid *defaultId)
{
	Relation	relation = table_open(relationId, AccessShareLock);
	PartitionDesc descriptor = RelationGetPartitionDesc(relation, true);
	List	   *partitions = NIL;

	*defaultId = InvalidOid;
	for (int i = 0; i < descriptor->nparts; i++)
	{
		StreamPartition *partition = palloc0(sizeof(StreamPartition));
		bool		isDefault;

		if (!ReadPartitionBound(descriptor->oids[i], partition, &isDefault))
			continue;
		if (isDefault)
			*defaultId = partition->relationId;
		else
			partitions = lappend(partitions, partition);
	}
	table_close(relation, NoLock);

	list_sort(partitions, ComparePartitions);
	return partitions;
}


int64
HighestPartitionBound(List *partitions)
{
	StreamPartition *last;

	if (partitions == NIL)
		return 0;
	last = llast(partitions);
	return last->boundedAbove ? last->upper : 0;
}


/* A partition's range, from pg_class.relpartbound; false if it has none */
static bool
ReadPartitionBound(Oid partitionId, StreamPartition *partition, bool *isDefault)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(partitionId));
	PartitionBoundSpec *bound;
	Datum		boundDatum;
	bool		isNull;

	if (!HeapTupleIsValid(tuple))
		return false;
	boundDatum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relpartbound, &isNull);
	if (isNull)
	{
		ReleaseSysCache(tuple);
		return false;
	}
	bound = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(boundDatum)));
	ReleaseSysCache(tuple);

	partition->relationId = partitionId;
	*isDefault = bound->is_default;
	if (bound->is_default)
		return true;
	Assert(bound->strategy == PARTITION_STRATEGY_RANGE);
	partition->lower = BoundValue(linitial(bound->lowerdatums), &partition->boundedBelow);
	partition->upper = BoundValue(linitial(bound->upperdatums), &partition->boundedAbove);
	return true;
}


static int64
BoundValue(PartitionRangeDatum *datum, bool *bounded)
{
	Const	   *value;

	*bounded = datum->kind == PARTITION_RANGE_DATUM_VALUE;
	if (!*bounded)
		return datum->kind == PARTITION_RANGE_DATUM_MINVALUE ? PG_INT64_MIN : PG_INT64_MAX;

	value = castNode(Const, datum->value);
	switch (value->consttype)
	{
		case INT2OID:
			return DatumGetInt16(value->constvalue);
		case INT4OID:
			return DatumGetInt32(value->constvalue);
		default:
			return DatumGetInt64(value->constvalue);
	}
}


static int
ComparePartitions(const ListCell *a, const ListCell *b)
{
	StreamPartition *left = lfirst(a);
	StreamPartition *right = lfirst(b);

	if (left->boundedBelow != right->boundedBelow)
		return left->boundedBelow ? 1 : -1;
	return left->lower < right->lower ? -1 : left->lower > right->lower ? 1 : 0;
}


int
CreatePartitionsUpTo(Oid relationId, int64 from, int64 through, int64 partitionSize,
					 int maxCount)
{
	int			created = 0;
	int64		lower = from;

	while (lower <= through && created < maxCount)
	{
		int64		upper;
		char	   *partitionName;

		if (pg_add_s64_overflow(lower, partitionSize, &upper))
			break;
		partitionName = CreatePartitionTable(relationId, lower);
		AttachPartition(relationId, partitionName, lower, upper);
		lower = upper;
		created++;
	}
	return created;
}


/*
 * A new table <stream>_p<lower bound> with the stream's columns, defaults
 * and constraints, but not its identity: a row inserted into the
 * partition directly, not through the stream, gets no id and is refused.
 * Returns its qualified name.  (The stream is not kept open across the
 * DDL, which refuses to change a table that its own session has open.)
 */
static char *
CreatePartitionTable(Oid relationId, int64 lower)
{
	Oid			namespaceId = get_rel_namespace(relationId);
	char	   *schemaName = get_namespace_name(namespaceId);
	char	   *name = ChooseRelationName(get_rel_name(relationId), NULL,
										  psprintf("p" INT64_FORMAT, lower),
										  namespaceId, false);
	char	   *qualifiedName = quote_qualified_identifier(schemaName, name);

	ExecuteStreamDdl(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING "
							  "CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE "
							  "INCLUDING COMPRESSION)",
							  qualifiedName, QualifiedName(relationId)));
	return qualifiedName;
}


static void
AttachPartition(Oid relationId, const char *partitionName, int64 lower, int64 upper)
{
	ExecuteStreamDdl(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ("
							  INT64_FORMAT ") TO (" INT64_FORMAT ")",
							  QualifiedName(relationId), partitionName, lower, upper));
}


static char *
QualifiedName(Oid relationId)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relationId)),
									  get_rel_name(relationId));
}


uint64
MoveRowsOutOfDefault(Oid relationId, Oid defaultId, const char *idColumn, int64 partitionSize,
					 int maxPartitions)
{
	char	   *defaultName = QualifiedName(defaultId);
	char	   *streamName = get_rel_name(relationId);
	StringInfoData columns;
	Relation	stream;
	TupleDesc	tupleDesc;
	uint64		moved = 0;

	stream = table_open(relationId, AccessShareLock);
	tupleDesc = RelationGetDescr(stream);
	initStringInfo(&columns);
	for (int i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(tupleDesc, i);

		if (attribute->attisdropped || attribute->attgenerated)
			continue;
		appendStringInfo(&columns, "%s%s", columns.len > 0 ? ", " : "",
						 quote_identifier(NameStr(attribute->attname)));
	}
	table_close(stream, NoLock);

	for (int created = 0; created < maxPartitions; created++)
	{
		int64		lowest;
		int64		lower;
		bool		isNull;
		char	   *partitionName;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("SELECT pg_catalog.min(%s)::pg_catalog.int8 FROM %s",
								 quote_identifier(idColumn), defaultName),
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read the default partition of \"%s\"", streamName);
		lowest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											 &isNull));
		SPI_finish();
		if (isNull)
			break;

		/* the partition of the lowest row, aligned as the others are */
		lower = lowest - (((lowest % partitionSize) + partitionSize) % partitionSize);
		partitionName = CreatePartitionTable(relationId, lower);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("WITH moved AS (DELETE FROM %s WHERE %s OPERATOR(pg_catalog.>=) "
								 INT64_FORMAT " AND %s OPERATOR(pg_catalog.<) " INT64_FORMAT
								 " RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM moved",
								 defaultName, quote_identifier(idColumn), lower,
								 quote_identifier(idColumn), lower + partitionSize, columns.data,
								 partitionName, columns.data, columns.data),
						false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not move rows out of the default partition of \"%s\"",
				 streamName);
		moved += SPI_processed;
		SPI_finish();
		AttachPartition(relationId, partitionName, lower, lower + partitionSize);
	}

	return moved;
}


void
DropPartitions(List *partitionIds)
{
	StringInfoData names;
	ListCell   *cell;

	if (partitionIds == NIL)
		return;

	initStringInfo(&names);
	foreach(cell, partitionIds)
	{
		Oid			partitionId = lfirst_oid(cell);

		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
						 QualifiedName(partitionId));
	}
	ExecuteStreamDdl(psprintf("DROP TABLE %s", names.data));
}


void
ExecuteStreamDdl(const char *command)
{
	int			result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	result = SPI_execute(command, false, 0);
	if (result != SPI_OK_UTILITY)
		elog(ERROR, "statement failed (%d): %s", result, command);
	SPI_finish();
}


/*
 * The lock manager's own timeout bounds the wait: lock_timeout is set for
 * the one request, in a subtransaction, so that a lock not granted in time
 * cancels only the request.  The lock, once granted, belongs to the
 * transaction.
 */
bool
LockRelationBriefly(Oid relationId, LOCKMODE mode)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int			savedLockTimeout = LockTimeout;
	bool		granted = false;

	if (ConditionalLockRelationOid(relationId, mode))
		return true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		LockTimeout = STREAM_LOCK_WAIT_MS;
		LockRelationOid(relationId, mode);
		LockTimeout = savedLockTimeout;
		ReleaseCurrentSubTransaction();
		granted = true;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		LockTimeout = savedLockTimeout;
		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(error);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return granted;
}
