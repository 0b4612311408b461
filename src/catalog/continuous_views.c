/*-------------------------------------------------------------------------
 *
 * continuous_views.c
 *	  Writing incremental.continuous_view_definitions.
 *
 * Rows are removed by the event trigger that notices a dropped view
 * (incremental._drop_continuous_view_trigger), so that every way of
 * dropping one, DROP SCHEMA ... CASCADE included, cleans up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog/catalog_access.h"
#include "catalog/continuous_view_catalog.h"

static CatalogStatement InsertStatement = {
	.sql = "INSERT INTO incremental.continuous_view_definitions "
	"(view_name, pipeline_name, source_table, storage_table, query, realtime, "
	"distinct_mode, distinct_tables, ttl, ttl_column, maintenance_pipeline, sliding_window, "
	"read_tables, window_column, partition_column, partition_duration, sliding_column) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
	.nargs = 17,
	.argtypes = {REGCLASSOID, TEXTOID, REGCLASSOID, REGCLASSOID, TEXTOID, BOOLOID, TEXTOID,
	REGCLASSARRAYOID, INTERVALOID, TEXTOID, TEXTOID, INTERVALOID, REGCLASSARRAYOID,
	TEXTOID, TEXTOID, INTERVALOID, TEXTOID},
};

static CatalogStatement ReadTtlColumnStatement = {
	.sql = "SELECT ttl_column FROM incremental.continuous_view_definitions "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement ReadTablesStatement = {
	.sql = "SELECT pipeline_name, storage_table::pg_catalog.oid, "
	"distinct_tables::pg_catalog.oid[] FROM incremental.continuous_view_definitions "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement ReadViewOfPipelineStatement = {
	.sql = "SELECT view_name::pg_catalog.oid FROM incremental.continuous_view_definitions "
	"WHERE pipeline_name OPERATOR(pg_catalog.=) $1 "
	"OR maintenance_pipeline OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement ReadViewUsingStatement = {
	.sql = "SELECT view_name::pg_catalog.oid FROM incremental.continuous_view_definitions "
	"WHERE $1 OPERATOR(pg_catalog.=) ANY (read_tables::pg_catalog.oid[]) "
	"OR storage_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
	"OR $1 OPERATOR(pg_catalog.=) ANY (distinct_tables::pg_catalog.oid[]) "
	"OR delta_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1 LIMIT 1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement UpdateTtlStatement = {
	.sql = "UPDATE incremental.continuous_view_definitions SET ttl = $2 "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {OIDOID, INTERVALOID},
};

static CatalogStatement ReadViewStatement = {
	.sql = "SELECT pipeline_name, source_table::pg_catalog.oid, storage_table::pg_catalog.oid, "
	"query, realtime, distinct_mode, ttl, ttl_column, maintenance_pipeline, sliding_window, "
	"window_column, sliding_column, partition_column, partition_duration, "
	"delta_table::pg_catalog.oid FROM incremental.continuous_view_definitions "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement UpdateQueryStatement = {
	.sql = "UPDATE incremental.continuous_view_definitions SET query = $2, distinct_mode = $3 "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 3,
	.argtypes = {OIDOID, TEXTOID, TEXTOID},
};

static CatalogStatement InsertBackfillStatement = {
	.sql = "INSERT INTO incremental.continuous_view_backfills "
	"(view_name, columns, command, backfill_through, backfilled_through, valid_from, "
	"one_transaction) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	.nargs = 7,
	.argtypes = {REGCLASSOID, TEXTARRAYOID, TEXTOID, INT8OID, INT8OID, INT8OID, BOOLOID},
};

static CatalogStatement ReadBackfillStatement = {
	.sql = "SELECT backfill_id, command, backfill_through, backfilled_through, one_transaction "
	"FROM incremental.continuous_view_backfills "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1 AND finished_at IS NULL "
	"ORDER BY backfill_id LIMIT 1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement UpdateBackfillStatement = {
	.sql = "UPDATE incremental.continuous_view_backfills SET backfilled_through = $2, "
	"finished_at = CASE WHEN $2 OPERATOR(pg_catalog.>=) backfill_through "
	"THEN pg_catalog.now() END WHERE backfill_id OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID},
};

static CatalogStatement DeleteBackfillsStatement = {
	.sql = "DELETE FROM incremental.continuous_view_backfills "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement UpdateDeltaTableStatement = {
	.sql = "UPDATE incremental.continuous_view_definitions SET delta_table = $2 "
	"WHERE view_name::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {OIDOID, REGCLASSOID},
};

static CatalogStatement ReadViewWithDeltaStatement = {
	.sql = "SELECT view_name::pg_catalog.oid FROM incremental.continuous_view_definitions "
	"WHERE delta_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement ReadViewOfSourceStatement = {
	.sql = "SELECT view_name::pg_catalog.oid FROM incremental.continuous_view_definitions "
	"WHERE source_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1 LIMIT 1",
	.nargs = 1,
	.argtypes = {OIDOID},
};


/* A text Datum, or NULL */
static Datum
NullableText(const char *text, char *null)
{
	*null = text != NULL ? ' ' : 'n';
	return text != NULL ? CStringGetTextDatum(text) : (Datum) 0;
}


/* A regclass[] of the relations in a list of OIDs */
static Datum
RegclassArray(List *relationIds)
{
	Datum	   *elements = palloc0(sizeof(Datum) * (list_length(relationIds) + 1));
	ListCell   *cell;

	foreach(cell, relationIds)
		elements[foreach_current_index(cell)] = ObjectIdGetDatum(lfirst_oid(cell));
	return PointerGetDatum(construct_array(elements, list_length(relationIds), REGCLASSOID,
										   sizeof(Oid), true, TYPALIGN_INT));
}


void
InsertContinuousView(const ContinuousViewRecord *record)
{
	Datum		values[17];
	char		nulls[17];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = ObjectIdGetDatum(record->viewId);
	values[1] = CStringGetTextDatum(record->pipelineName);
	values[2] = ObjectIdGetDatum(record->sourceRelationId);
	values[3] = ObjectIdGetDatum(record->storageRelationId);
	values[4] = CStringGetTextDatum(record->query);
	values[5] = BoolGetDatum(record->realtime);
	if (record->distinctMode != NULL)
		values[6] = CStringGetTextDatum(record->distinctMode);
	else
		nulls[6] = 'n';

	values[7] = RegclassArray(record->distinctTableIds);

	values[8] = PointerGetDatum(record->ttl);
	nulls[8] = record->ttl != NULL ? ' ' : 'n';
	values[9] = NullableText(record->ttlColumn, &nulls[9]);
	values[10] = NullableText(record->maintenancePipelineName, &nulls[10]);
	values[11] = PointerGetDatum(record->slidingWindow);
	nulls[11] = record->slidingWindow != NULL ? ' ' : 'n';
	values[12] = RegclassArray(record->readTableIds);
	values[13] = NullableText(record->windowColumn, &nulls[13]);
	values[14] = NullableText(record->partitionColumn, &nulls[14]);
	values[15] = PointerGetDatum(record->partitionDuration);
	nulls[15] = record->partitionDuration != NULL ? ' ' : 'n';
	values[16] = NullableText(record->slidingColumn, &nulls[16]);

	ModifyCatalog(&InsertStatement, values, nulls);
}


/*
 * Whether a view is a continuous view; if so, *ttlColumn is its time key
 * for TTL, or NULL when it was created without one.
 */
bool
ReadContinuousViewTtlColumn(Oid viewId, char **ttlColumn)
{
	Datum		key = ObjectIdGetDatum(viewId);
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadTtlColumnStatement, &key, NULL, &result, &isNull, 1))
		return false;
	*ttlColumn = isNull ? NULL : TextDatumGetCString(result);
	return true;
}


/*
 * The pipeline of a continuous view, and its tables: the storage first,
 * then the side tables.  False when the view is not a continuous view.
 */
bool
ReadContinuousViewTables(Oid viewId, char **pipelineName, List **tableIds)
{
	Datum		key = ObjectIdGetDatum(viewId);
	Datum		result[3];
	bool		isNull[3];
	Datum	   *sideIds;
	int			sideCount;

	if (!QueryCatalog(&ReadTablesStatement, &key, NULL, result, isNull, 3))
		return false;

	*pipelineName = TextDatumGetCString(result[0]);
	*tableIds = list_make1_oid(DatumGetObjectId(result[1]));
	deconstruct_array(DatumGetArrayTypeP(result[2]), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &sideIds, NULL, &sideCount);
	for (int i = 0; i < sideCount; i++)
		*tableIds = lappend_oid(*tableIds, DatumGetObjectId(sideIds[i]));
	return true;
}


/*
 * A continuous view whose pipeline reads or writes a relation by name (its
 * query's tables, its storage, its side tables), or InvalidOid
 */
Oid
ContinuousViewUsingRelation(Oid relationId)
{
	Datum		key = ObjectIdGetDatum(relationId);
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadViewUsingStatement, &key, NULL, &result, &isNull, 1))
		return InvalidOid;
	return DatumGetObjectId(result);
}


/* The continuous view a pipeline keeps up to date, or InvalidOid */
Oid
ContinuousViewOfPipeline(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadViewOfPipelineStatement, &key, NULL, &result, &isNull, 1))
		return InvalidOid;
	return DatumGetObjectId(result);
}


void
UpdateContinuousViewTtl(Oid viewId, Interval *ttl)
{
	Datum		values[2] = {ObjectIdGetDatum(viewId), PointerGetDatum(ttl)};
	char		nulls[2] = {' ', ttl != NULL ? ' ' : 'n'};

	ModifyCatalog(&UpdateTtlStatement, values, nulls);
}


/*
 * ReadContinuousView reads a view's row (all but the dependency lists);
 * false when the view is not a continuous view.
 */
bool
ReadContinuousView(Oid viewId, ContinuousViewRecord *record)
{
	Datum		key = ObjectIdGetDatum(viewId);
	Datum		result[15];
	bool		isNull[15];

	if (!QueryCatalog(&ReadViewStatement, &key, NULL, result, isNull, 15))
		return false;

	memset(record, 0, sizeof(ContinuousViewRecord));
	record->viewId = viewId;
	record->pipelineName = TextDatumGetCString(result[0]);
	record->sourceRelationId = DatumGetObjectId(result[1]);
	record->storageRelationId = DatumGetObjectId(result[2]);
	record->query = TextDatumGetCString(result[3]);
	record->realtime = DatumGetBool(result[4]);
	record->distinctMode = isNull[5] ? NULL : TextDatumGetCString(result[5]);
	record->ttl = isNull[6] ? NULL : DatumGetIntervalP(result[6]);
	record->ttlColumn = isNull[7] ? NULL : TextDatumGetCString(result[7]);
	record->maintenancePipelineName = isNull[8] ? NULL : TextDatumGetCString(result[8]);
	record->slidingWindow = isNull[9] ? NULL : DatumGetIntervalP(result[9]);
	record->windowColumn = isNull[10] ? NULL : TextDatumGetCString(result[10]);
	record->slidingColumn = isNull[11] ? NULL : TextDatumGetCString(result[11]);
	record->partitionColumn = isNull[12] ? NULL : TextDatumGetCString(result[12]);
	record->partitionDuration = isNull[13] ? NULL : DatumGetIntervalP(result[13]);
	record->deltaTableId = isNull[14] ? InvalidOid : DatumGetObjectId(result[14]);
	return true;
}


/* Records the delta table of a view, or (InvalidOid) that it has none */
void
SetContinuousViewDeltaTable(Oid viewId, Oid deltaTableId)
{
	Datum		values[2] = {ObjectIdGetDatum(viewId), ObjectIdGetDatum(deltaTableId)};
	char		nulls[2] = {' ', OidIsValid(deltaTableId) ? ' ' : 'n'};

	ModifyCatalog(&UpdateDeltaTableStatement, values, nulls);
}


/* The continuous view whose batches append to a delta table, or InvalidOid */
Oid
ContinuousViewWithDeltaTable(Oid deltaTableId)
{
	Datum		key = ObjectIdGetDatum(deltaTableId);
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadViewWithDeltaStatement, &key, NULL, &result, &isNull, 1))
		return InvalidOid;
	return DatumGetObjectId(result);
}


/* Whether some continuous view's pipeline reads the relation as its source */
bool
ContinuousViewReadsSource(Oid sourceId)
{
	Datum		key = ObjectIdGetDatum(sourceId);
	Datum		result;
	bool		isNull;

	return QueryCatalog(&ReadViewOfSourceStatement, &key, NULL, &result, &isNull, 1);
}


/* Records the view's query after columns were added to it */
void
UpdateContinuousViewQuery(Oid viewId, const char *query, const char *distinctMode)
{
	Datum		values[3] = {ObjectIdGetDatum(viewId), CStringGetTextDatum(query), (Datum) 0};
	char		nulls[3] = {' ', ' ', ' '};

	values[2] = NullableText(distinctMode, &nulls[2]);
	ModifyCatalog(&UpdateQueryStatement, values, nulls);
}


void
InsertContinuousViewBackfill(Oid viewId, const ContinuousViewBackfill *backfill)
{
	Datum		values[7];
	Datum	   *columns = palloc(sizeof(Datum) * list_length(backfill->columns));
	ListCell   *cell;

	foreach(cell, backfill->columns)
		columns[foreach_current_index(cell)] = CStringGetTextDatum(lfirst(cell));
	values[0] = ObjectIdGetDatum(viewId);
	values[1] = PointerGetDatum(construct_array(columns, list_length(backfill->columns), TEXTOID,
												-1, false, TYPALIGN_INT));
	values[2] = CStringGetTextDatum(backfill->command);
	values[3] = Int64GetDatum(backfill->backfillThrough);
	values[4] = Int64GetDatum(backfill->backfilledThrough);
	values[5] = Int64GetDatum(backfill->validFrom);
	values[6] = BoolGetDatum(backfill->oneTransaction);
	ModifyCatalog(&InsertBackfillStatement, values, NULL);
}


/* The view's oldest backfill that has not finished; false when none */
bool
ReadPendingBackfill(Oid viewId, ContinuousViewBackfill *backfill)
{
	Datum		key = ObjectIdGetDatum(viewId);
	Datum		result[5];
	bool		isNull[5];

	if (!QueryCatalog(&ReadBackfillStatement, &key, NULL, result, isNull, 5))
		return false;
	memset(backfill, 0, sizeof(ContinuousViewBackfill));
	backfill->backfillId = DatumGetInt64(result[0]);
	backfill->command = TextDatumGetCString(result[1]);
	backfill->backfillThrough = DatumGetInt64(result[2]);
	backfill->backfilledThrough = DatumGetInt64(result[3]);
	backfill->oneTransaction = DatumGetBool(result[4]);
	return true;
}


/* Records a backfill's progress; it is finished once through its end */
void
UpdateBackfillProgress(int64 backfillId, int64 backfilledThrough)
{
	Datum		values[2] = {Int64GetDatum(backfillId), Int64GetDatum(backfilledThrough)};

	ModifyCatalog(&UpdateBackfillStatement, values, NULL);
}


/* Forgets a view's backfills, when its storage is built again */
void
DeleteContinuousViewBackfills(Oid viewId)
{
	Datum		key = ObjectIdGetDatum(viewId);

	ModifyCatalog(&DeleteBackfillsStatement, &key, NULL);
}
