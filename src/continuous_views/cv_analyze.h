/*-------------------------------------------------------------------------
 *
 * cv_analyze.h
 *	  Analysis of a continuous view's query.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_ANALYZE_H
#define INCREMENTAL_CV_ANALYZE_H

#include "continuous_views/cv_definition.h"
#include "continuous_views/cv_rollup.h"

/*
 * Checks an analyzed SELECT and returns what its storage keeps; raises an
 * error, naming the offending part, for a query a continuous view cannot
 * keep.  A roll-up's query was rewritten by PrepareRollupSource, and its
 * aggregates follow those of the view it reads (rollup; NULL otherwise).
 */
extern ContinuousViewDefinition *AnalyzeContinuousViewQuery(Query *query,
															 ContinuousViewOptions *options,
															 CVRollupSource *rollup);

/* A column name not in *names yet (within NAMEDATALEN), added to them */
extern char *UniqueColumnName(const char *base, List **names);

#endif							/* INCREMENTAL_CV_ANALYZE_H */
