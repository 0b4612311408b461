/*-------------------------------------------------------------------------
 *
 * stream_create.c
 *	  incremental.create_stream(): a table partitioned by ranges of its own
 *	  identity column, with partitions made ahead of its writers and a
 *	  retention.
 *
 * The id is GENERATED ALWAYS: a writer cannot give a row an id below the
 * progress of the consumers, which would never see it, nor into a
 * partition that retention has decided to drop.  The partitions have no
 * identity of their own, so a row inserted into one directly, bypassing
 * the stream, is refused for want of an id.  A BRIN index on the id serves
 * the consumers' range scans at the cost of next to nothing per insert.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "compat.h"
#include "pipelines/pipeline_access.h"
#include "streams/stream_create.h"
#include "streams/stream_partitions.h"
#include "streams/stream_retention.h"

PG_FUNCTION_INFO_V1(incremental_create_stream);
PG_FUNCTION_INFO_V1(incremental_alter_stream);

#define MAX_PARTITIONS_AHEAD 1000

static char *StreamTableCommand(RangeVar *stream, const char *columns, const char *idColumn);
static void CheckPartitionsAhead(int32 partitionsAhead, int64 partitionSize);


/*
 * incremental.create_stream(stream_name, columns, retention, partition_size,
 *		partitions_ahead, id_column)
 */
Datum
incremental_create_stream(PG_FUNCTION_ARGS)
{
	char	   *streamName = GetTextArgument(fcinfo, 0, "stream_name");
	char	   *columns = GetTextArgument(fcinfo, 1, "columns");
	StreamDefinition definition = {0};

	ParseRetention(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
				   &definition.dropConsumed, &definition.keep);
	CheckArgumentNotNull(fcinfo, 3, "partition_size");
	definition.partitionSize = PG_GETARG_INT64(3);
	CheckArgumentNotNull(fcinfo, 4, "partitions_ahead");
	definition.partitionsAhead = PG_GETARG_INT32(4);
	definition.idColumn = GetTextArgument(fcinfo, 5, "id_column");

	PG_RETURN_OID(CreateStream(makeRangeVarFromNameList(stringToQualifiedNameList(streamName)),
							   columns, &definition));
}


/*
 * CreateStream creates the table, its first partitions and its maintenance
 * pipeline, and fills in definition->relationId.
 */
Oid
CreateStream(RangeVar *stream, const char *columns, StreamDefinition *definition)
{
	Oid			namespaceId;
	char	   *qualifiedName;
	char	   *defaultName;
	int64		ahead;

	if (definition->partitionSize <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition_size must be positive"),
				 errhint("It is the number of ids per partition; the default is 1000000.")));
	CheckPartitionsAhead(definition->partitionsAhead, definition->partitionSize);
	ahead = definition->partitionsAhead * definition->partitionSize;

	namespaceId = RangeVarGetCreationNamespace(stream);
	if (isAnyTempNamespace(namespaceId) || stream->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a stream cannot be temporary"),
				 errdetail("Its maintenance runs in sessions of its own, which cannot see "
						   "temporary tables.")));
	stream->schemaname = get_namespace_name(namespaceId);
	qualifiedName = quote_qualified_identifier(stream->schemaname, stream->relname);

	ExecuteStreamDdl(StreamTableCommand(stream, columns, definition->idColumn));
	definition->relationId = get_relname_relid(stream->relname, namespaceId);
	defaultName = quote_qualified_identifier(stream->schemaname,
											 ChooseRelationName(stream->relname, NULL, "default",
																namespaceId, false));
	ExecuteStreamDdl(psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT", defaultName,
							 qualifiedName));
	ExecuteStreamDdl(psprintf("CREATE INDEX ON %s USING brin (%s)", qualifiedName,
							 quote_identifier(definition->idColumn)));
	(void) CreatePartitionsUpTo(definition->relationId, 0, ahead, definition->partitionSize,
								MAX_PARTITIONS_AHEAD + 1);

	StartStreamMaintenance(definition);

	return definition->relationId;
}


/*
 * CREATE TABLE <stream> (<id> bigint GENERATED ALWAYS AS IDENTITY,
 * <columns>) PARTITION BY RANGE (<id>), checked to be exactly that: the
 * columns are the user's text, which must not close the column list and
 * go on with a statement or clause of its own.
 */
static char *
StreamTableCommand(RangeVar *stream, const char *columns, const char *idColumn)
{
	char	   *command = psprintf("CREATE TABLE %s (%s bigint GENERATED ALWAYS AS IDENTITY, "
								   "%s\n) PARTITION BY RANGE (%s)",
								   quote_qualified_identifier(stream->schemaname, stream->relname),
								   quote_identifier(idColumn), columns,
								   quote_identifier(idColumn));
	List	   *statements = raw_parser(command, RAW_PARSE_DEFAULT);
	CreateStmt *create;
	ListCell   *cell;
	bool		wellFormed = false;

	if (list_length(statements) == 1 &&
		IsA(((RawStmt *) linitial(statements))->stmt, CreateStmt))
	{
		PartitionSpec *partitioning;

		create = (CreateStmt *) ((RawStmt *) linitial(statements))->stmt;
		partitioning = create->partspec;
		wellFormed = create->inhRelations == NIL && create->ofTypename == NULL &&
			create->options == NIL && create->tablespacename == NULL &&
			create->accessMethod == NULL && create->oncommit == ONCOMMIT_NOOP &&
			!create->if_not_exists && partitioning != NULL &&
			list_length(partitioning->partParams) == 1 &&
			((PartitionElem *) linitial(partitioning->partParams))->name != NULL &&
			strcmp(((PartitionElem *) linitial(partitioning->partParams))->name, idColumn) == 0;
	}
	if (!wellFormed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a list of column definitions"),
				 errhint("Pass what goes between the parentheses of CREATE TABLE, such as "
						 "$$ t timestamptz DEFAULT now(), user_id bigint $$.")));

	foreach(cell, create->tableElts)
	{
		Node	   *element = lfirst(cell);

		if (foreach_current_index(cell) > 0 && IsA(element, ColumnDef) &&
			strcmp(((ColumnDef *) element)->colname, idColumn) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" is the stream's id column", idColumn),
					 errdetail("create_stream adds the id column itself, as a bigint identity."),
					 errhint("Name the id column otherwise with id_column => '...'.")));
	}

	return command;
}


/* incremental.alter_stream(stream regclass, partitions_ahead integer) */
Datum
incremental_alter_stream(PG_FUNCTION_ARGS)
{
	Oid			relationId;
	StreamDefinition *definition;
	int32		partitionsAhead;

	CheckArgumentNotNull(fcinfo, 0, "stream");
	CheckArgumentNotNull(fcinfo, 1, "partitions_ahead");
	relationId = PG_GETARG_OID(0);
	partitionsAhead = PG_GETARG_INT32(1);

	LockRelationOid(relationId, ShareUpdateExclusiveLock);
	if (!pg_class_ownercheck(relationId, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relationId)),
					   get_rel_name(relationId));
	definition = ReadStreamDefinition(relationId);
	if (definition == NULL || definition->partitionSize == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not a stream", get_rel_name(relationId)),
				 errdetail("Only the partitions of tables made by incremental.create_stream are "
						   "created by pg_incremental.")));
	CheckPartitionsAhead(partitionsAhead, definition->partitionSize);
	UpdateStreamPartitionsAhead(relationId, partitionsAhead);
	PG_RETURN_VOID();
}


static void
CheckPartitionsAhead(int32 partitionsAhead, int64 partitionSize)
{
	int64		ahead;

	if (partitionsAhead < 1 || partitionsAhead > MAX_PARTITIONS_AHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partitions_ahead must be between 1 and %d", MAX_PARTITIONS_AHEAD),
				 errhint("Keep enough partitions ahead for the ids written in %d seconds, "
						 "the time between two maintenance runs, and during the longest "
						 "query over the whole stream (such as pg_dump).",
						 STREAM_MAINTENANCE_INTERVAL_SECONDS)));
	if (pg_mul_s64_overflow(partitionsAhead, partitionSize, &ahead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition_size is too large for %d partitions ahead", partitionsAhead)));
}
