/*-------------------------------------------------------------------------
 *
 * citus_tables.c
 *	  Citus awareness for tables: how Citus holds one, distributing a new
 *	  table co-located with another, and reading Citus' EXPLAIN to tell
 *	  whether a statement is pushed down to the shards.
 *
 * A continuous view's batch is an INSERT ... SELECT ... ON CONFLICT from
 * the source into the storage.  When both are hash-distributed and
 * co-located, and the batch groups by the distribution column, Citus runs
 * it on every shard pair at once, on the workers; otherwise it pulls the
 * rows to the coordinator first.  Citus decides at planning, so the only
 * faithful answer comes from its plan: its EXPLAIN starts with a Citus
 * INSERT ... SELECT node, naming the method, when it is not pushed down.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "common/relation_name.h"
#include "distributed/citus_nodes.h"
#include "distributed/citus_tables.h"

PG_FUNCTION_INFO_V1(incremental_is_distributed_table);

/* What Citus' EXPLAIN says of a statement it plans */
#define CITUS_SCAN "Custom Scan (Citus"
#define CITUS_INSERT_SELECT_SCAN "Custom Scan (Citus INSERT ... SELECT)"
#define INSERT_SELECT_METHOD "INSERT/SELECT method: "


/*
 * CitusTableKindOf says how Citus holds the relation and, for a
 * hash-distributed one, sets *distributionColumn to its column.
 */
CitusTableKind
CitusTableKindOf(Oid relationId, AttrNumber *distributionColumn)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relationId)};
	CitusTableKind kind = CITUS_TABLE_NONE;

	*distributionColumn = InvalidAttrNumber;
	if (!OidIsValid(relationId) || !CitusIsPresent())
		return CITUS_TABLE_NONE;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT p.partmethod, p.repmodel, "
							  "CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'h' THEN "
							  "pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END "
							  "FROM pg_catalog.pg_dist_partition p "
							  "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read Citus' metadata");
	if (SPI_processed > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		bool		isNull;
		char		method = DatumGetChar(SPI_getbinval(tuple, tupdesc, 1, &isNull));
		char		model = DatumGetChar(SPI_getbinval(tuple, tupdesc, 2, &isNull));
		char	   *column = SPI_getvalue(tuple, tupdesc, 3);

		if (method == 'h' && column != NULL)
		{
			kind = CITUS_TABLE_HASH;
			*distributionColumn = get_attnum(relationId, column);
		}
		else if (method == 'n' && model == 't')
			kind = CITUS_TABLE_REFERENCE;
		else
			kind = CITUS_TABLE_OTHER;
	}
	SPI_finish();
	return kind;
}


/*
 * IsDistributedSource: whether Citus knows the relation (a distributed,
 * reference or Citus local table), so that nodes other than this one may
 * write to it.
 */
bool
IsDistributedSource(Oid relationId)
{
	AttrNumber	distributionColumn;

	return CitusTableKindOf(relationId, &distributionColumn) != CITUS_TABLE_NONE;
}


/*
 * incremental._is_distributed_table(relation): whether Citus keeps it, for
 * the SQL of the extension (a continuous view's expiry)
 */
Datum
incremental_is_distributed_table(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsDistributedSource(PG_GETARG_OID(0)));
}


/*
 * DistributeColocated makes a new, empty table hash-distributed on the
 * column, with its shards beside those of colocateWith, which must be
 * hash-distributed on a column of the same type.
 */
void
DistributeColocated(Oid relationId, const char *columnName, Oid colocateWith)
{
	Oid			argtypes[3] = {OIDOID, TEXTOID, TEXTOID};
	Datum		args[3];

	args[0] = ObjectIdGetDatum(relationId);
	args[1] = CStringGetTextDatum(columnName);
	args[2] = CStringGetTextDatum(QualifiedRelationName(colocateWith));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.create_distributed_table("
							  "$1::pg_catalog.regclass, $2, colocate_with => $3)",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not distribute %s", QualifiedRelationName(relationId));
	SPI_finish();
}


/*
 * BeginLocalDDL keeps the DDL that follows, up to EndLocalDDL, on this
 * node: Citus would otherwise create a view over distributed tables on
 * every node, where a real-time view would read the workers' empty copies
 * of the extension's catalog.  Returns the GUC nest level to end.
 */
int
BeginLocalDDL(void)
{
	int			nestLevel;

	if (!CitusIsPresent())
		return -1;
	nestLevel = NewGUCNestLevel();
	(void) set_config_option("citus.enable_ddl_propagation", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestLevel;
}


void
EndLocalDDL(int nestLevel)
{
	if (nestLevel >= 0)
		AtEOXact_GUC(true, nestLevel);
}


/*
 * WhyNotPushedDown plans the statement through EXPLAIN, and returns NULL
 * when Citus runs it on the shards, or what its plan says instead.
 * Nothing is executed.  The statement has no parameters: Citus cannot
 * explain one it would plan recursively once their values are known.
 */
char *
WhyNotPushedDown(const char *command)
{
	char	   *reason = NULL;
	char	   *top;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("EXPLAIN (COSTS OFF) %s", command), false, 0) < 0 ||
		SPI_processed == 0)
		elog(ERROR, "could not explain: %s", command);

	top = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strncmp(top, CITUS_INSERT_SELECT_SCAN, strlen(CITUS_INSERT_SELECT_SCAN)) == 0)
	{
		for (uint64 row = 1; row < SPI_processed && reason == NULL; row++)
		{
			char	   *line = SPI_getvalue(SPI_tuptable->vals[row],
											SPI_tuptable->tupdesc, 1);
			char	   *method = strstr(line, INSERT_SELECT_METHOD);

			if (method != NULL)
				reason = psprintf("Citus runs the batch's INSERT ... SELECT by \"%s\".",
								  method + strlen(INSERT_SELECT_METHOD));
		}
		if (reason == NULL)
			reason = psprintf("Citus plans the batch as \"%s\".", top);
	}
	else if (strncmp(top, CITUS_SCAN, strlen(CITUS_SCAN)) != 0)
		reason = psprintf("The batch's plan starts with \"%s\" on the coordinator.",
						  top + strspn(top, " "));

	/* into the caller's memory, which outlives SPI_finish */
	if (reason != NULL)
		reason = strcpy(SPI_palloc(strlen(reason) + 1), reason);
	SPI_finish();
	return reason;
}
