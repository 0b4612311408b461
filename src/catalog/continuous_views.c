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

#include "catalog/catalog_access.h"
#include "catalog/continuous_view_catalog.h"

static CatalogStatement InsertStatement = {
	.sql = "INSERT INTO incremental.continuous_view_definitions "
	"(view_name, pipeline_name, source_table, storage_table, query, realtime, "
	"distinct_mode, distinct_tables) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	.nargs = 8,
	.argtypes = {REGCLASSOID, TEXTOID, REGCLASSOID, REGCLASSOID, TEXTOID, BOOLOID, TEXTOID,
	REGCLASSARRAYOID},
};


void
InsertContinuousView(const ContinuousViewRecord *record)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Datum	   *tableIds = palloc0(sizeof(Datum) * (list_length(record->distinctTableIds) + 1));
	ListCell   *cell;

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

	foreach(cell, record->distinctTableIds)
		tableIds[foreach_current_index(cell)] = ObjectIdGetDatum(lfirst_oid(cell));
	values[7] = PointerGetDatum(construct_array(tableIds, list_length(record->distinctTableIds),
												REGCLASSOID, sizeof(Oid), true,
												TYPALIGN_INT));

	ModifyCatalog(&InsertStatement, values, nulls);
}
