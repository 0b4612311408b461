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

#endif							/* INCREMENTAL_CV_DEPENDENCIES_H */
