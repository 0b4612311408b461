/*-------------------------------------------------------------------------
 *
 * cv_rollup.h
 *	  Roll-ups: continuous views that read another continuous view (minute
 *	  -> hour -> day) through the states its batches append to a delta
 *	  table, merged with the same rules, so that every aggregate rolls up
 *	  exactly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_ROLLUP_H
#define INCREMENTAL_CV_ROLLUP_H

#include "catalog/continuous_view_catalog.h"
#include "continuous_views/cv_definition.h"
#include "continuous_views/cv_rules.h"

/* The continuous view a roll-up reads, and what its query was analyzed to */
typedef struct CVRollupSource CVRollupSource;

/*
 * When the query reads a continuous view, prepares that view's delta table
 * (creating it and making the view's batches append to it, the first time)
 * and rewrites the query to read the delta table instead; NULL otherwise.
 */
extern CVRollupSource *PrepareRollupSource(Query *query);

/* The view the roll-up reads */
extern Oid	RollupSourceView(CVRollupSource *source);

/* Whether a continuous view is a roll-up of another */
extern bool IsRollup(const ContinuousViewRecord *record);

/*
 * The delta table's columns that hold the state of the aggregate an
 * aggregate of the roll-up reads, as Vars of the rewritten query, one per
 * state part; an error for an aggregate that does not roll one up
 */
extern List *RollupArguments(CVRollupSource *source, Aggref *aggref);

/*
 * Fills in the parts of a roll-up's aggregate: those of the aggregate it
 * rolls up, each batch combining the delta rows' parts (input's argument
 * columns, from RollupArguments)
 */
extern void ApplyRollupRule(CVRollupSource *source, CVAggregate *aggregate,
							CVRuleInput *input);

/*
 * Gives a new roll-up the state of the view it reads, by running its
 * command once over that view's storage, starts its pipeline after the
 * deltas that state includes, and makes it run after the view's pipeline
 */
extern void StartRollup(CVRollupSource *source, const char *pipelineName, const char *command);

#endif							/* INCREMENTAL_CV_ROLLUP_H */
