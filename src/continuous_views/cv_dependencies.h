/*-------------------------------------------------------------------------
 *
 * cv_dependencies.h
 *	  The dependencies of continuous views, recorded in pg_depend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_DEPENDENCIES_H
#define INCREMENTAL_CV_DEPENDENCIES_H

#include "nodes/parsenodes.h"

/* The relations a query reads, each once, in subqueries too */
extern List *QueryRelations(Query *query);

/*
 * Records the view's rule's dependencies again (on its tables' columns and
 * the columns its query reads), after CREATE OR REPLACE VIEW
 */
extern void RecordViewRuleDependencies(Oid viewId, Oid sourceId, List *tableIds,
									   const char *queryText, const char *slidingColumn);

#endif							/* INCREMENTAL_CV_DEPENDENCIES_H */
