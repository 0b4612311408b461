/*-------------------------------------------------------------------------
 *
 * catalog_access.c
 *	  The two ways this layer touches the extension's tables.
 *
 * Reads probe a table's primary key index directly, under a snapshot taken
 * at the moment of the read.  That is both fast (the scheduler checks every
 * pipeline often, and a check that finds nothing new must cost next to
 * nothing) and right: a caller that has just waited for a pipeline's lock
 * sees the progress committed by the previous holder, whatever the
 * transaction's isolation level.
 *
 * Writes, and the few reads that a primary key cannot answer, go through
 * SPI with plans cached for the session, so that foreign keys, checks and
 * cascades defined in the install script always apply.
 * Users may only read the tables, so writes run as the tables' owner, with
 * search_path pinned to pg_catalog: nothing a user defines can change what
 * the statements mean.
 *
 * The two writes of every batch, its progress and its history row, are made
 * directly instead, as PostgreSQL writes its own catalogs (heap and
 * indexes, no executor): they are most of what a batch costs besides its
 * command (bench/overhead.sh).  Their tables have no trigger but foreign
 * key checks, whose work the callers do themselves: the history row locks
 * its pipeline's row as the check would (LockCatalogRowForKeyShare), and
 * the progress changes no key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "catalog/catalog_access.h"
#include "catalog/role_statement.h"
#include "catalog/catalog_version.h"

/* The columns this library reads from each table */
static const int CatalogTableColumns[CATALOG_TABLE_COUNT] = {
	[CATALOG_PIPELINES] = Natts_pipelines,
	[CATALOG_SEQUENCE_PIPELINES] = Natts_sequence_pipelines,
	[CATALOG_TIME_INTERVAL_PIPELINES] = Natts_time_interval_pipelines,
	[CATALOG_FILE_LIST_PIPELINES] = Natts_file_list_pipelines,
	[CATALOG_PROCESSED_FILES] = Natts_processed_files,
	[CATALOG_PIPELINE_RUNS] = Natts_pipeline_runs,
	[CATALOG_STREAM_DEFINITIONS] = Natts_stream_definitions,
	[CATALOG_PIPELINE_DEPENDENCIES] = Natts_pipeline_dependencies,
};

static const char *const CatalogTableNames[CATALOG_TABLE_COUNT] = {
	[CATALOG_PIPELINES] = "pipelines",
	[CATALOG_SEQUENCE_PIPELINES] = "sequence_pipelines",
	[CATALOG_TIME_INTERVAL_PIPELINES] = "time_interval_pipelines",
	[CATALOG_FILE_LIST_PIPELINES] = "file_list_pipelines",
	[CATALOG_PROCESSED_FILES] = "processed_files",
	[CATALOG_PIPELINE_RUNS] = "pipeline_runs",
	[CATALOG_STREAM_DEFINITIONS] = "stream_definitions",
	[CATALOG_PIPELINE_DEPENDENCIES] = "pipeline_dependencies",
};

static void CopyRowOut(TupleDesc tupleDesc, HeapTuple tuple, Datum *values, bool *nulls);
static void CheckCatalogShape(CatalogTable table, Relation relation);
static uint64 RunCatalogStatement(CatalogStatement *statement, Datum *values,
								  const char *nulls, Datum *resultValues,
								  bool *resultNulls, int resultCount);
static Oid	CatalogIndexId(const char *indexName);
static HeapTuple FetchRowByKey(Relation relation, Snapshot snapshot, int nkeys,
							   const Datum *keys);
static Oid	CatalogOwner(void);


/*
 * What a session knows of each catalog table, found once: its OID, and the
 * identity sequence a run's history row draws from (finding it is a scan
 * of pg_depend).  An entry is forgotten when the relation cache hears that
 * its table changed (a rename, an ALTER, a drop, which dropping the
 * extension does to all of them), and all are when it loses track.
 */
typedef struct KnownCatalogTable
{
	Oid			tableId;
	AttrNumber	identityColumn; /* 0: identity sequence not looked up */
	Oid			identitySequenceId;
} KnownCatalogTable;

static KnownCatalogTable KnownTables[CATALOG_TABLE_COUNT];
static bool KnownTablesCallbackRegistered = false;

static void ForgetKnownTables(Datum argument, Oid relationId);


/*
 * CatalogTableId returns the OID of one of the extension's tables, looked
 * up by name once per session (KnownTables).
 *
 * The extension is locked first, for the rest of the transaction, as the
 * scheduler's workers lock it for each of theirs: a DROP EXTENSION or an
 * ALTER EXTENSION ... UPDATE then waits for the transaction instead of
 * changing the catalog between its reads and its writes.  Tables read
 * stay locked to the end of the transaction, too.
 */
Oid
CatalogTableId(CatalogTable table)
{
	Oid			extensionId = IncrementalExtensionId();
	Oid			relationId = InvalidOid;

	if (OidIsValid(extensionId))
	{
		/* the lock also takes in a drop's invalidations */
		LockDatabaseObject(ExtensionRelationId, extensionId, 0, AccessShareLock);
		relationId = KnownTables[table].tableId;
		if (!OidIsValid(relationId))
		{
			Oid			namespaceId = get_namespace_oid(INCREMENTAL_SCHEMA, true);

			if (OidIsValid(namespaceId))
				relationId = get_relname_relid(CatalogTableNames[table], namespaceId);
		}
	}

	if (!OidIsValid(relationId))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_incremental is not installed in this database"),
				 errhint("Run CREATE EXTENSION pg_incremental.")));

	/* an older catalog has other columns: never read it as ours */
	CheckInstalledVersion();

	if (!KnownTablesCallbackRegistered)
	{
		CacheRegisterRelcacheCallback(ForgetKnownTables, (Datum) 0);
		KnownTablesCallbackRegistered = true;
	}
	KnownTables[table].tableId = relationId;

	return relationId;
}


/* A relcache callback: a table changed, or all of them (InvalidOid) */
static void
ForgetKnownTables(Datum argument, Oid relationId)
{
	for (int table = 0; table < CATALOG_TABLE_COUNT; table++)
	{
		if (!OidIsValid(relationId) || KnownTables[table].tableId == relationId)
			MemSet(&KnownTables[table], 0, sizeof(KnownCatalogTable));
	}
}


/* CatalogIndexId returns the OID of one of the extension's indexes */
static Oid
CatalogIndexId(const char *indexName)
{
	Oid			namespaceId = get_namespace_oid(INCREMENTAL_SCHEMA, false);
	Oid			indexId = get_relname_relid(indexName, namespaceId);

	if (!OidIsValid(indexId))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index %s.%s does not exist", INCREMENTAL_SCHEMA, indexName),
				 errhint("Run ALTER EXTENSION pg_incremental UPDATE, or drop and create "
						 "the extension again.")));

	return indexId;
}


/*
 * ReadCatalogRow looks up the row whose leading primary key columns equal
 * the given text keys.  When found, it returns true and, if values is not
 * NULL, copies the row out into the current memory context, detoasted.
 */
bool
ReadCatalogRow(CatalogTable table, int nkeys, Datum *keys, Datum *values, bool *nulls)
{
	Relation	relation = table_open(CatalogTableId(table), AccessShareLock);
	Snapshot	snapshot;
	HeapTuple	tuple;

	CheckCatalogShape(table, relation);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = FetchRowByKey(relation, snapshot, nkeys, keys);
	if (tuple != NULL && values != NULL)
		CopyRowOut(RelationGetDescr(relation), tuple, values, nulls);
	UnregisterSnapshot(snapshot);
	table_close(relation, NoLock);

	return tuple != NULL;
}


/*
 * FetchRowByKey returns a copy of the row whose leading primary key columns
 * equal the given text keys (at most two), as the snapshot sees it, or NULL
 */
static HeapTuple
FetchRowByKey(Relation relation, Snapshot snapshot, int nkeys, const Datum *keys)
{
	ScanKeyData scanKeys[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	Assert(nkeys >= 1 && nkeys <= lengthof(scanKeys));

	/* the key columns are text COLLATE "C", which is what ScanKeyInit uses */
	for (int i = 0; i < nkeys; i++)
		ScanKeyInit(&scanKeys[i], i + 1, BTEqualStrategyNumber, F_TEXTEQ, keys[i]);

	scan = systable_beginscan(relation, RelationGetPrimaryKeyIndex(relation), true,
							  snapshot, nkeys, scanKeys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	else
		tuple = NULL;
	systable_endscan(scan);

	return tuple;
}


/*
 * ReadNewestCatalogRow reads the row with the highest value in the last
 * column of the named index among the rows whose first column equals the
 * given text key, like ReadCatalogRow.  The key's attribute number is the
 * table's.
 */
bool
ReadNewestCatalogRow(CatalogTable table, const char *indexName, AttrNumber keyAttribute,
					 Datum key, Datum *values, bool *nulls)
{
	Relation	relation = table_open(CatalogTableId(table), AccessShareLock);
	Relation	index = index_open(CatalogIndexId(indexName), AccessShareLock);
	Snapshot	snapshot;
	ScanKeyData scanKey;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found;

	CheckCatalogShape(table, relation);
	snapshot = RegisterSnapshot(GetLatestSnapshot());

	ScanKeyInit(&scanKey, keyAttribute, BTEqualStrategyNumber, F_TEXTEQ, key);
	scan = systable_beginscan_ordered(relation, index, snapshot, 1, &scanKey);
	tuple = systable_getnext_ordered(scan, BackwardScanDirection);
	found = HeapTupleIsValid(tuple);

	if (found && values != NULL)
		CopyRowOut(RelationGetDescr(relation), tuple, values, nulls);

	systable_endscan_ordered(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(relation, NoLock);

	return found;
}


/*
 * CatalogKeysExist looks up many rows of a table with a two-column text
 * primary key, all with the same first column: exists[i] says whether the
 * row (firstKey, secondKeys[i]) exists.  The table, its index and a
 * snapshot are opened once and the index scan is restarted for each key,
 * so that a probe costs little more than the index descent; the loop can
 * be cancelled.
 */
void
CatalogKeysExist(CatalogTable table, Datum firstKey, const Datum *secondKeys, int count,
				 bool *exists)
{
	Relation	relation = table_open(CatalogTableId(table), AccessShareLock);
	Relation	index = index_open(RelationGetPrimaryKeyIndex(relation), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(relation, NULL);
	Snapshot	snapshot;
	IndexScanDesc scan;
	ScanKeyData scanKeys[2];

	CheckCatalogShape(table, relation);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = index_beginscan(relation, index, snapshot, 2, 0);

	for (int i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();

		/* the key columns are text COLLATE "C", which is what ScanKeyInit uses */
		ScanKeyInit(&scanKeys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, firstKey);
		ScanKeyInit(&scanKeys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, secondKeys[i]);
		index_rescan(scan, scanKeys, 2, NULL, 0);
		exists[i] = index_getnext_slot(scan, ForwardScanDirection, slot);
	}

	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(relation, NoLock);
}


/*
 * ReadAllCatalogRows returns every row of a table as a list of Datum
 * arrays, each followed in memory by its null flags (see CatalogRowNulls).
 */
List *
ReadAllCatalogRows(CatalogTable table, int natts)
{
	Relation	relation = table_open(CatalogTableId(table), AccessShareLock);
	TupleDesc	tupleDesc = RelationGetDescr(relation);
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *rows = NIL;

	Assert(natts == CatalogTableColumns[table]);
	CheckCatalogShape(table, relation);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(relation, InvalidOid, false, snapshot, 0, NULL);

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Datum	   *values = palloc(natts * (sizeof(Datum) + sizeof(bool)));
		bool	   *nulls = (bool *) (values + natts);

		CHECK_FOR_INTERRUPTS();
		CopyRowOut(tupleDesc, tuple, values, nulls);
		rows = lappend(rows, values);
	}

	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(relation, NoLock);

	return rows;
}


/*
 * CheckCatalogShape refuses to read a table whose columns are not the ones
 * this library reads by attribute number: a library and an install script
 * of different versions must fail clearly, never read one column as another.
 */
static void
CheckCatalogShape(CatalogTable table, Relation relation)
{
	int			columns = RelationGetDescr(relation)->natts;

	if (columns != CatalogTableColumns[table])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("catalog table %s.%s has %d columns, but this version of "
						"pg_incremental reads %d",
						INCREMENTAL_SCHEMA, CatalogTableNames[table], columns,
						CatalogTableColumns[table]),
				 errhint("Install the pg_incremental library and SQL scripts of the same "
						 "version, then run ALTER EXTENSION pg_incremental UPDATE.")));
}


/*
 * CopyRowOut deforms a tuple into values that outlive the scan: by-reference
 * values are copied, and varlenas detoasted while the snapshot is still
 * registered.
 */
static void
CopyRowOut(TupleDesc tupleDesc, HeapTuple tuple, Datum *values, bool *nulls)
{
	heap_deform_tuple(tuple, tupleDesc, values, nulls);

	for (int i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(tupleDesc, i);

		if (nulls[i] || attribute->attbyval)
			continue;

		if (attribute->attlen == -1)
			values[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(values[i]));
		else
			values[i] = datumCopy(values[i], false, attribute->attlen);
	}
}


/*
 * ModifyCatalog runs an INSERT, UPDATE or DELETE on the extension's tables
 * and returns the number of rows it touched.  Afterwards the change is
 * visible to this transaction's next reads.
 */
uint64
ModifyCatalog(CatalogStatement *statement, Datum *values, const char *nulls)
{
	uint64		rowCount = RunCatalogStatement(statement, values, nulls, NULL, NULL, 0);

	CommandCounterIncrement();

	return rowCount;
}


/*
 * QueryCatalog runs a SELECT on the extension's tables that returns at most
 * one row, and copies its first resultCount columns into the current memory
 * context.  Returns whether there was a row.
 */
bool
QueryCatalog(CatalogStatement *statement, Datum *values, const char *nulls,
			 Datum *resultValues, bool *resultNulls, int resultCount)
{
	return RunCatalogStatement(statement, values, nulls,
							   resultValues, resultNulls, resultCount) > 0;
}


/*
 * RunCatalogStatement runs a catalog statement as the catalog's owner with
 * search_path pinned to pg_catalog, preparing and caching its plan on first
 * use, and copies out the first row's first resultCount columns.
 */
static uint64
RunCatalogStatement(CatalogStatement *statement, Datum *values, const char *nulls,
					Datum *resultValues, bool *resultNulls, int resultCount)
{
	return RunStatementAsRole(CatalogOwner(), statement->sql, &statement->plan,
							  statement->nargs, statement->argtypes, values, nulls,
							  resultValues, resultNulls, resultCount);
}


/* The role that owns the catalog tables, i.e. the extension's owner */
static Oid
CatalogOwner(void)
{
	Oid			relationId = CatalogTableId(CATALOG_PIPELINES);
	HeapTuple	classTuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relationId));
	Oid			ownerId;

	if (!HeapTupleIsValid(classTuple))
		elog(ERROR, "cache lookup failed for relation %u", relationId);

	ownerId = ((Form_pg_class) GETSTRUCT(classTuple))->relowner;
	ReleaseSysCache(classTuple);

	return ownerId;
}


/*
 * InsertCatalogRow adds a row, every column given, directly to the heap and
 * indexes of one of the extension's tables.  No trigger fires and no check
 * constraint is tested: the caller's values are the extension's own.
 */
void
InsertCatalogRow(CatalogTable table, Datum *values, bool *nulls)
{
	Relation	relation = table_open(CatalogTableId(table), RowExclusiveLock);
	HeapTuple	tuple;

	CheckCatalogShape(table, relation);
	tuple = heap_form_tuple(RelationGetDescr(relation), values, nulls);
	CatalogTupleInsert(relation, tuple);
	heap_freetuple(tuple);
	table_close(relation, NoLock);

	CommandCounterIncrement();
}


/*
 * UpdateCatalogRow sets columns of the row of a table with a one-column
 * text primary key, directly.  The caller holds a lock that every writer of
 * the row takes (the pipeline's), so the newest version is the one found;
 * a concurrent update raises an error, it is never lost.  Returns whether
 * the row exists.
 */
bool
UpdateCatalogRow(CatalogTable table, Datum key, int ncolumns, const AttrNumber *columns,
				 const Datum *values, const bool *nulls)
{
	Relation	relation = table_open(CatalogTableId(table), RowExclusiveLock);
	TupleDesc	descriptor = RelationGetDescr(relation);
	Datum	   *newValues = palloc0(sizeof(Datum) * descriptor->natts);
	bool	   *newNulls = palloc0(sizeof(bool) * descriptor->natts);
	bool	   *replace = palloc0(sizeof(bool) * descriptor->natts);
	Snapshot	snapshot;
	HeapTuple	tuple;

	CheckCatalogShape(table, relation);
	for (int i = 0; i < ncolumns; i++)
	{
		newValues[columns[i] - 1] = values[i];
		newNulls[columns[i] - 1] = nulls != NULL && nulls[i];
		replace[columns[i] - 1] = true;
	}

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = FetchRowByKey(relation, snapshot, 1, &key);
	if (tuple != NULL)
		CatalogTupleUpdate(relation, &tuple->t_self,
						   heap_modify_tuple(tuple, descriptor, newValues, newNulls, replace));
	UnregisterSnapshot(snapshot);
	table_close(relation, NoLock);

	CommandCounterIncrement();
	return tuple != NULL;
}


/*
 * LockCatalogRowForKeyShare locks the row of a table with a one-column text
 * primary key FOR KEY SHARE, as a foreign key's check locks the row it
 * references: it cannot be deleted, nor its key changed, until the end of
 * the transaction.  Waits for a writer that holds it; false when the row
 * does not exist, or was deleted meanwhile.
 */
bool
LockCatalogRowForKeyShare(CatalogTable table, Datum key)
{
	Relation	relation = table_open(CatalogTableId(table), RowShareLock);
	Snapshot	snapshot;
	HeapTuple	tuple;
	bool		locked = false;

	CheckCatalogShape(table, relation);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = FetchRowByKey(relation, snapshot, 1, &key);
	if (tuple != NULL)
	{
		TupleTableSlot *slot = table_slot_create(relation, NULL);
		TM_FailureData failure;
		TM_Result	result;

		result = table_tuple_lock(relation, &tuple->t_self, snapshot, slot,
								  GetCurrentCommandId(false), LockTupleKeyShare, LockWaitBlock,
								  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
		/* a version this transaction wrote is its own to keep */
		locked = result == TM_Ok || result == TM_SelfModified;
		ExecDropSingleTupleTableSlot(slot);
	}
	UnregisterSnapshot(snapshot);
	table_close(relation, NoLock);

	return locked;
}


/* The next value of an identity column of one of the extension's tables */
int64
NextCatalogIdentity(CatalogTable table, AttrNumber column)
{
	Oid			tableId = CatalogTableId(table);
	KnownCatalogTable *known = &KnownTables[table];

	if (known->identityColumn != column)
	{
		Oid			sequenceId = getIdentitySequence(tableId, column, false);

		/* kept unless the lookup took in an invalidation of the table */
		if (known->tableId == tableId)
		{
			known->identitySequenceId = sequenceId;
			known->identityColumn = column;
		}
		return nextval_internal(sequenceId, false);
	}
	return nextval_internal(known->identitySequenceId, false);
}
