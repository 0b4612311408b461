/*-------------------------------------------------------------------------
 *
 * role_statement.c
 *	  Running one SQL statement through SPI as a given role, with
 *	  search_path pinned to pg_catalog (see role_statement.h).
 *
 * The role switch is a local user-ID change, as SECURITY DEFINER
 * functions make it, and the search_path is set in a GUC nest level:
 * both are undone on the way out, and by the transaction's abort on an
 * error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/guc.h"

#include "catalog/role_statement.h"

static int	ExecuteStatement(const char *sql, SPIPlanPtr *cachedPlan, int nargs,
							 Oid *argtypes, Datum *values, const char *nulls, long count);


uint64
RunStatementAsRole(Oid roleId, const char *sql, SPIPlanPtr *cachedPlan,
				   int nargs, Oid *argtypes, Datum *values, const char *nulls,
				   Datum *firstRow, bool *firstRowNulls, int ncolumns)
{
	MemoryContext callerContext = CurrentMemoryContext;
	Oid			savedUserId;
	int			savedSecurityContext;
	int			gucNestLevel;
	int			spiResult;
	uint64		rowCount;

	GetUserIdAndSecContext(&savedUserId, &savedSecurityContext);
	SetUserIdAndSecContext(roleId, savedSecurityContext | SECURITY_LOCAL_USERID_CHANGE);

	gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	spiResult = ExecuteStatement(sql, cachedPlan, nargs, argtypes, values, nulls,
								 ncolumns > 0 ? 1 : 0);
	if (spiResult < 0)
		elog(ERROR, "statement failed: %s: %s", SPI_result_code_string(spiResult), sql);

	rowCount = SPI_processed;

	if (rowCount > 0 && ncolumns > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	tupleDesc = SPI_tuptable->tupdesc;

		/* copy into the caller's context: SPI_finish frees SPI's */
		MemoryContext spiContext = MemoryContextSwitchTo(callerContext);

		Assert(ncolumns <= tupleDesc->natts);
		for (int i = 0; i < ncolumns; i++)
		{
			Form_pg_attribute attribute = TupleDescAttr(tupleDesc, i);
			bool		isNull;
			Datum		value = SPI_getbinval(tuple, tupleDesc, i + 1, &isNull);

			firstRow[i] = isNull ? (Datum) 0 :
				datumCopy(value, attribute->attbyval, attribute->attlen);
			if (firstRowNulls != NULL)
				firstRowNulls[i] = isNull;
		}
		MemoryContextSwitchTo(spiContext);
	}

	SPI_finish();
	MemoryContextSwitchTo(callerContext);
	AtEOXact_GUC(true, gucNestLevel);
	SetUserIdAndSecContext(savedUserId, savedSecurityContext);

	return rowCount;
}


/* ExecuteStatement runs the statement, preparing and keeping its plan if asked */
static int
ExecuteStatement(const char *sql, SPIPlanPtr *cachedPlan, int nargs, Oid *argtypes,
				 Datum *values, const char *nulls, long count)
{
	if (cachedPlan == NULL)
		return SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, count);

	if (*cachedPlan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare statement: %s: %s",
				 SPI_result_code_string(SPI_result), sql);

		SPI_keepplan(plan);
		*cachedPlan = plan;
	}

	return SPI_execute_plan(*cachedPlan, values, nulls, false, count);
}
