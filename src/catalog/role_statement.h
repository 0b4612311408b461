/*-------------------------------------------------------------------------
 *
 * role_statement.h
 *	  Running one SQL statement through SPI as a given role, with
 *	  search_path pinned to pg_catalog.
 *
 * The catalog's writes run as the catalog's owner, and pg_cron mode's
 * statements as a pipeline's owner or the bootstrap superuser; both must
 * see only what they name in full, whatever the caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_ROLE_STATEMENT_H
#define INCREMENTAL_ROLE_STATEMENT_H

#include "executor/spi.h"

/*
 * Runs sql as roleId and returns the number of rows it processed; the
 * first row's first ncolumns columns are copied into the caller's memory
 * context (firstRowNulls may be NULL when the caller needs no null flags).
 * With cachedPlan, the plan is prepared on first use and kept for the
 * session in *cachedPlan; without, the statement is planned each time.
 * nulls is in SPI's convention (' ' or 'n'), or NULL for none.
 */
extern uint64 RunStatementAsRole(Oid roleId, const char *sql, SPIPlanPtr *cachedPlan,
								 int nargs, Oid *argtypes, Datum *values, const char *nulls,
								 Datum *firstRow, bool *firstRowNulls, int ncolumns);

#endif							/* INCREMENTAL_ROLE_STATEMENT_H */
