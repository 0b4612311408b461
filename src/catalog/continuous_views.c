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

static CatalogStatement ReadForRollupStatement = {
	.sql = "SELECT pipeline_name, storage_table::pg_catalog.oid, query, distinct_mode, "
	"sliding_window, delta_table::pg_catalog.oid FROM incremental.continuous_view_definitions "
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


bool
ReadContinuousViewForRollup(Oid viewId, ContinuousViewRecord *record)
{
	Datum		key = ObjectIdGetDatum(viewId);
	Datum		result[6];
	bool		isNull[6];

	if (!QueryCatalog(&ReadForRollupStatement, &key, NULL, result, isNull, 6))
		return false;

	memset(record, 0, sizeof(ContinuousViewRecord));
	record->viewId = viewId;
	record->pipelineName = TextDatumGetCString(result[0]);
	record->storageRelationId = DatumGetObjectId(result[1]);
	record->query = TextDatumGetCString(result[2]);
	record->distinctMode = isNull[3] ? NULL : TextDatumGetCString(result[3]);
	record->slidingWindow = isNull[4] ? NULL : DatumGetIntervalP(result[4]);
	record->deltaTableId = isNull[5] ? InvalidOid : DatumGetObjectId(result[5]);
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
