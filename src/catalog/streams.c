/*-------------------------------------------------------------------------
 *
 * streams.c
 *	  Reading and writing incremental.stream_definitions and
 *	  incremental.stream_marks.
 *
 * Rows are removed by the event trigger that notices a dropped table
 * (incremental._drop_stream_trigger), so that every way of dropping one
 * cleans up; marks go with their definition (ON DELETE CASCADE).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog/catalog_access.h"
#include "catalog/stream_catalog.h"

static CatalogStatement InsertStatement = {
	.sql = "INSERT INTO incremental.stream_definitions "
	"(stream, id_column, drop_consumed, keep, partition_size, partitions_ahead, "
	"maintenance_pipeline, deleted_through) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	.nargs = 8,
	.argtypes = {REGCLASSOID, TEXTOID, BOOLOID, INTERVALOID, INT8OID, INT4OID, TEXTOID, INT8OID},
};

static CatalogStatement ReadStreamOfPipelineStatement = {
	.sql = "SELECT stream::pg_catalog.oid FROM incremental.stream_definitions "
	"WHERE maintenance_pipeline OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static CatalogStatement UpdateRetentionStatement = {
	.sql = "UPDATE incremental.stream_definitions SET drop_consumed = $2, keep = $3 "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 3,
	.argtypes = {OIDOID, BOOLOID, INTERVALOID},
};

static CatalogStatement UpdatePartitionsAheadStatement = {
	.sql = "UPDATE incremental.stream_definitions SET partitions_ahead = $2 "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {OIDOID, INT4OID},
};

static CatalogStatement UpdateDeletedThroughStatement = {
	.sql = "UPDATE incremental.stream_definitions SET deleted_through = $2 "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 2,
	.argtypes = {OIDOID, INT8OID},
};

static CatalogStatement DeleteStatement = {
	.sql = "DELETE FROM incremental.stream_definitions "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
	.nargs = 1,
	.argtypes = {OIDOID},
};

static CatalogStatement InsertMarkStatement = {
	.sql = "INSERT INTO incremental.stream_marks (stream, marked_at, last_value) "
	"VALUES ($1, $2, $3) ON CONFLICT (stream, marked_at) DO NOTHING",
	.nargs = 3,
	.argtypes = {REGCLASSOID, TIMESTAMPTZOID, INT8OID},
};

static CatalogStatement ReadMarkStatement = {
	.sql = "SELECT last_value FROM incremental.stream_marks "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
	"AND marked_at OPERATOR(pg_catalog.<=) $2 ORDER BY marked_at DESC LIMIT 1",
	.nargs = 2,
	.argtypes = {OIDOID, TIMESTAMPTZOID},
};

static CatalogStatement MarkedSinceStatement = {
	.sql = "SELECT 1 FROM incremental.stream_marks "
	"WHERE stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
	"AND marked_at OPERATOR(pg_catalog.>) $2 LIMIT 1",
	.nargs = 2,
	.argtypes = {OIDOID, TIMESTAMPTZOID},
};

/* all marks older than the newest one at or before the cutoff */
static CatalogStatement TrimMarksStatement = {
	.sql = "DELETE FROM incremental.stream_marks m "
	"WHERE m.stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
	"AND m.marked_at OPERATOR(pg_catalog.<) (SELECT max(n.marked_at) "
	"FROM incremental.stream_marks n "
	"WHERE n.stream::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
	"AND n.marked_at OPERATOR(pg_catalog.<=) $2)",
	.nargs = 2,
	.argtypes = {OIDOID, TIMESTAMPTZOID},
};


void
InsertStreamDefinition(const StreamDefinition *definition)
{
	Datum		values[8];
	char		nulls[8];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = ObjectIdGetDatum(definition->relationId);
	values[1] = CStringGetTextDatum(definition->idColumn);
	values[2] = BoolGetDatum(definition->dropConsumed);
	values[3] = PointerGetDatum(definition->keep);
	nulls[3] = definition->keep != NULL ? ' ' : 'n';
	values[4] = Int64GetDatum(definition->partitionSize);
	nulls[4] = definition->partitionSize > 0 ? ' ' : 'n';
	values[5] = Int32GetDatum(definition->partitionsAhead);
	nulls[5] = definition->partitionSize > 0 ? ' ' : 'n';
	values[6] = CStringGetTextDatum(definition->maintenancePipelineName);
	values[7] = Int64GetDatum(definition->deletedThrough);
	nulls[7] = definition->hasDeletedThrough ? ' ' : 'n';

	ModifyCatalog(&InsertStatement, values, nulls);
}


/* A definition from a row that ReadAllCatalogRows copied out */
static StreamDefinition *
DefinitionFromRow(Datum *values)
{
	bool	   *nulls = CatalogRowNulls(values, Natts_stream_definitions);
	StreamDefinition *definition = palloc0(sizeof(StreamDefinition));

#define VALUE(column) values[Anum_stream_definitions_##column - 1]
#define ISNULL(column) nulls[Anum_stream_definitions_##column - 1]
	definition->relationId = DatumGetObjectId(VALUE(stream));
	definition->idColumn = TextDatumGetCString(VALUE(id_column));
	definition->dropConsumed = DatumGetBool(VALUE(drop_consumed));
	definition->keep = ISNULL(keep) ? NULL : DatumGetIntervalP(VALUE(keep));
	definition->partitionSize = ISNULL(partition_size) ? 0 : DatumGetInt64(VALUE(partition_size));
	definition->partitionsAhead =
		ISNULL(partitions_ahead) ? 0 : DatumGetInt32(VALUE(partitions_ahead));
	definition->maintenancePipelineName = TextDatumGetCString(VALUE(maintenance_pipeline));
	definition->hasDeletedThrough = !ISNULL(deleted_through);
	definition->deletedThrough =
		ISNULL(deleted_through) ? 0 : DatumGetInt64(VALUE(deleted_through));
#undef VALUE
#undef ISNULL

	return definition;
}


/* Every definition, read under a fresh snapshot */
List *
ReadAllStreamDefinitions(void)
{
	List	   *rows = ReadAllCatalogRows(CATALOG_STREAM_DEFINITIONS, Natts_stream_definitions);
	List	   *definitions = NIL;
	ListCell   *cell;

	foreach(cell, rows)
		definitions = lappend(definitions, DefinitionFromRow(lfirst(cell)));
	return definitions;
}


/* The definition of a table, or NULL when it has no retention */
StreamDefinition *
ReadStreamDefinition(Oid relationId)
{
	ListCell   *cell;

	/* a handful of rows: a scan is as good as an index */
	foreach(cell, ReadAllStreamDefinitions())
	{
		StreamDefinition *definition = lfirst(cell);

		if (definition->relationId == relationId)
			return definition;
	}
	return NULL;
}


/* The definition whose maintenance pipeline this is, or NULL */
StreamDefinition *
ReadStreamDefinitionOfPipeline(const char *pipelineName)
{
	Oid			relationId = StreamOfPipeline(pipelineName);

	return OidIsValid(relationId) ? ReadStreamDefinition(relationId) : NULL;
}


/* The table a maintenance pipeline keeps, or InvalidOid */
Oid
StreamOfPipeline(const char *pipelineName)
{
	Datum		key = CStringGetTextDatum(pipelineName);
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadStreamOfPipelineStatement, &key, NULL, &result, &isNull, 1))
		return InvalidOid;
	return DatumGetObjectId(result);
}


void
UpdateStreamRetention(Oid relationId, bool dropConsumed, Interval *keep)
{
	Datum		values[3] = {ObjectIdGetDatum(relationId), BoolGetDatum(dropConsumed),
	PointerGetDatum(keep)};
	char		nulls[3] = {' ', ' ', keep != NULL ? ' ' : 'n'};

	ModifyCatalog(&UpdateRetentionStatement, values, nulls);
}


void
UpdateStreamPartitionsAhead(Oid relationId, int32 partitionsAhead)
{
	Datum		values[2] = {ObjectIdGetDatum(relationId), Int32GetDatum(partitionsAhead)};

	ModifyCatalog(&UpdatePartitionsAheadStatement, values, NULL);
}


void
UpdateStreamDeletedThrough(Oid relationId, int64 deletedThrough)
{
	Datum		values[2] = {ObjectIdGetDatum(relationId), Int64GetDatum(deletedThrough)};

	ModifyCatalog(&UpdateDeletedThroughStatement, values, NULL);
}


void
DeleteStreamDefinition(Oid relationId)
{
	Datum		key = ObjectIdGetDatum(relationId);

	ModifyCatalog(&DeleteStatement, &key, NULL);
}


void
InsertStreamMark(Oid relationId, TimestampTz markedAt, int64 lastValue)
{
	Datum		values[3] = {ObjectIdGetDatum(relationId), TimestampTzGetDatum(markedAt),
	Int64GetDatum(lastValue)};

	ModifyCatalog(&InsertMarkStatement, values, NULL);
}


/*
 * The sequence value of the newest mark made at or before the cutoff;
 * false when every mark is younger.
 */
bool
ReadStreamMarkBefore(Oid relationId, TimestampTz cutoff, int64 *lastValue)
{
	Datum		keys[2] = {ObjectIdGetDatum(relationId), TimestampTzGetDatum(cutoff)};
	Datum		result;
	bool		isNull;

	if (!QueryCatalog(&ReadMarkStatement, keys, NULL, &result, &isNull, 1))
		return false;
	*lastValue = DatumGetInt64(result);
	return true;
}


/* Forgets the marks that the newest one before the cutoff makes useless */
void
TrimStreamMarks(Oid relationId, TimestampTz cutoff)
{
	Datum		keys[2] = {ObjectIdGetDatum(relationId), TimestampTzGetDatum(cutoff)};

	ModifyCatalog(&TrimMarksStatement, keys, NULL);
}


/* Whether a mark was made after the given time */
bool
StreamMarkedSince(Oid relationId, TimestampTz since)
{
	Datum		keys[2] = {ObjectIdGetDatum(relationId), TimestampTzGetDatum(since)};
	Datum		result;
	bool		isNull;

	return QueryCatalog(&MarkedSinceStatement, keys, NULL, &result, &isNull, 1);
}
