/*-------------------------------------------------------------------------
 *
 * cv_rules.h
 *	  The aggregate rule table of continuous views: which aggregates a
 *	  continuous view can keep, and the state columns, batch expressions,
 *	  merges and final expressions that keep each one exactly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_RULES_H
#define INCREMENTAL_CV_RULES_H

#include "continuous_views/cv_definition.h"

/*
 * How the analysis hands an aggregate to its rule: the batch columns that
 * hold its arguments (aggregated arguments only; direct arguments of
 * ordered-set aggregates are constants the rule reads from the Aggref),
 * and the batch column of its FILTER condition, or NULL.
 */
typedef struct CVRuleInput
{
	Aggref	   *aggref;
	List	   *argumentColumns;	/* char *, quoted */
	char	   *filterColumn;	/* quoted, or NULL */
} CVRuleInput;

/*
 * Fills in the state parts and final expression of 'aggregate' (whose name
 * is set), or raises an error naming the aggregate and listing those that
 * are supported.
 */
extern void ApplyAggregateRule(ContinuousViewDefinition *definition,
							   CVAggregate *aggregate, CVRuleInput *input);

/* A type's SQL name with its modifier and, when not the default, collation */
extern char *SqlTypeName(Oid typeId, int32 typmod, Oid collationId);

/* The aggregates the rule table supports, for messages and docs */
extern const char *SupportedAggregatesText(void);

#endif							/* INCREMENTAL_CV_RULES_H */
