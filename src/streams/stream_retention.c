/*-------------------------------------------------------------------------
 *
 * stream_retention.c
 *	  incremental.set_retention(), and what it shares with create_stream:
 *	  reading a retention, and starting a table's maintenance pipeline.
 *
 * A table with retention keeps the rows that some consumer has not yet
 * processed (stream_consumers.c), and with an interval also those drawn
 * more recently than that.  The rest goes: whole partitions, when the
 * table is partitioned by ranges of its ids, or rows, deleted in bounded
 * batches, when it is not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog/catalog_tables.h"
#include "catalog/pipeline_catalog.h"
#include "common/relation_name.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/pipeline_hooks.h"
#include "pipelines/sequence.h"
#include "pipelines/time_interval.h"
#include "streams/stream_partitions.h"
#include "streams/stream_retention.h"

PG_FUNCTION_INFO_V1(incremental_set_retention);

static void RetentionErrorContext(void *argument);
static char *ChooseMaintenancePipelineName(Oid relationId);
static void WarnWithoutIdIndex(Oid relationId, AttrNumber idColumn);
static void StopStreamMaintenance(StreamDefinition *definition);


void
ParseRetention(const char *retention, bool *dropConsumed, Interval **keep)
{
	ErrorContextCallback callback;
	Interval   *interval;
	char	   *trimmed;

	*dropConsumed = retention != NULL;
	*keep = NULL;
	if (retention == NULL)
		return;

	trimmed = pstrdup(retention);
	while (*trimmed == ' ')
		trimmed++;
	if (pg_strncasecmp(trimmed, "consumed", 8) == 0 && strspn(trimmed + 8, " ") == strlen(trimmed + 8))
		return;

	callback.callback = RetentionErrorContext;
	callback.arg = (void *) retention;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	interval = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(retention),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	error_context_stack = callback.previous;

	if (DatumGetBool(DirectFunctionCall2(interval_le, IntervalPGetDatum(interval),
										 IntervalPGetDatum(palloc0(sizeof(Interval))))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention must be longer than zero"),
				 errhint("Pass 'consumed' to drop rows as soon as every consumer processed "
						 "them.")));
	*keep = interval;
}


static void
RetentionErrorContext(void *argument)
{
	errcontext("retention \"%s\" is neither 'consumed' nor an interval such as '7 days'",
			   (const char *) argument);
}


char *
RetentionText(const StreamDefinition *definition)
{
	if (!definition->dropConsumed)
		return NULL;
	if (definition->keep == NULL)
		return "consumed";
	return DatumGetCString(DirectFunctionCall1(interval_out,
											   IntervalPGetDatum(definition->keep)));
}


/* incremental.set_retention(table_name regclass, retention text) */
Datum
incremental_set_retention(PG_FUNCTION_ARGS)
{
	Oid			relationId;
	char		relationKind;
	bool		dropConsumed;
	Interval   *keep;
	StreamDefinition *definition;
	Oid			tableId;
	Oid			sequenceId;
	AttrNumber	idColumn;

	CheckArgumentNotNull(fcinfo, 0, "table_name");
	relationId = PG_GETARG_OID(0);
	ParseRetention(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
				   &dropConsumed, &keep);

	/* one change of a table's retention at a time */
	LockRelationOid(relationId, ShareUpdateExclusiveLock);
	relationKind = get_rel_relkind(relationId);
	if (relationKind != RELKIND_RELATION && relationKind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relationId)),
				 errhint("Retention applies to tables with a serial or identity column.")));
	if (!pg_class_ownercheck(relationId, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(relationKind),
					   get_rel_name(relationId));
	if (get_rel_namespace(relationId) == get_namespace_oid(INCREMENTAL_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot set a retention on pg_incremental's own table \"%s\"",
						get_rel_name(relationId)),
				 errhint("Its run history is trimmed by incremental.history_retention.")));

	definition = ReadStreamDefinition(relationId);
	if (definition != NULL)
	{
		if (!dropConsumed && definition->partitionSize == 0)
		{
			StopStreamMaintenance(definition);
			PG_RETURN_VOID();
		}
		UpdateStreamRetention(relationId, dropConsumed, keep);
		/* the owner who sets it runs it, also after ALTER TABLE ... OWNER TO */
		SetPipelineOwner(definition->maintenancePipelineName, GetUserId());
		PG_RETURN_VOID();
	}
	if (!dropConsumed)
		PG_RETURN_VOID();

	ResolveSourceSequence(relationId, &tableId, &sequenceId);
	idColumn = SequenceOwnerColumn(sequenceId, &tableId);

	definition = palloc0(sizeof(StreamDefinition));
	definition->relationId = relationId;
	definition->idColumn = get_attname(relationId, idColumn, false);
	definition->dropConsumed = dropConsumed;
	definition->keep = keep;
	definition->deletedThrough = CheckSequenceUsable(sequenceId, GetUserId());
	if (relationKind == RELKIND_PARTITIONED_TABLE)
		CheckPartitionedById(relationId, idColumn);
	else
	{
		definition->hasDeletedThrough = true;
		WarnWithoutIdIndex(relationId, idColumn);
	}

	StartStreamMaintenance(definition);
	PG_RETURN_VOID();
}


void
StartStreamMaintenance(StreamDefinition *definition)
{
	TimeIntervalPipelineState state = {0};
	char	   *pipelineName = ChooseMaintenancePipelineName(definition->relationId);

	definition->maintenancePipelineName = pipelineName;
	InsertStreamDefinition(definition);

	state.timeInterval.time = STREAM_MAINTENANCE_INTERVAL_SECONDS * USECS_PER_SEC;
	state.batched = true;
	CreateTimeIntervalPipeline(pipelineName, &state, false, InvalidOid,
							   psprintf("SELECT incremental._maintain_stream(%s)",
										quote_literal_cstr(pipelineName)),
							   psprintf("%d seconds", STREAM_MAINTENANCE_INTERVAL_SECONDS),
							   false);
}


/* A table that keeps everything needs no maintenance */
static void
StopStreamMaintenance(StreamDefinition *definition)
{
	Pipeline   *pipeline = LockAndReadPipeline(definition->maintenancePipelineName,
											   PIPELINE_ACTION_DROP);

	DeleteStreamDefinition(definition->relationId);
	DeletePipeline(pipeline->name);
	FirePipelineEvent(PIPELINE_EVENT_DROPPED, pipeline);
}


/* <table>:retention, or <schema>.<table>:retention when that is taken */
static char *
ChooseMaintenancePipelineName(Oid relationId)
{
	char	   *relationName = get_rel_name(relationId);
	char	   *name = psprintf("%s:retention", relationName);

	if (ReadPipeline(name, true) == NULL)
		return name;
	name = psprintf("%s.%s:retention", get_namespace_name(get_rel_namespace(relationId)),
					relationName);
	if (ReadPipeline(name, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pipeline \"%s\" already exists", name),
				 errdetail("The pipeline that keeps a table's retention is named after it."),
				 errhint("Rename or drop that pipeline first.")));
	return name;
}


/*
 * Consumed rows of a table that is not partitioned are deleted by ranges
 * of ids; without an index on them, every batch reads the whole table.
 */
static void
WarnWithoutIdIndex(Oid relationId, AttrNumber idColumn)
{
	if (!ColumnLeadsAnIndex(relationId, idColumn))
		ereport(WARNING,
				(errmsg("column \"%s\" of table \"%s\" has no index",
						get_attname(relationId, idColumn, false), get_rel_name(relationId)),
				 errdetail("Consumed rows are deleted by ranges of that column."),
				 errhint("CREATE INDEX ON %s (%s);", QualifiedRelationName(relationId),
						 quote_identifier(get_attname(relationId, idColumn, false)))));
}


/*
 * TableHasRetention: whether rows of the table go once its consumers have
 * processed them (a stream, or set_retention 'consumed')
 */
bool
TableHasRetention(Oid relationId)
{
	StreamDefinition *definition = ReadStreamDefinition(relationId);

	return definition != NULL && definition->dropConsumed;
}
