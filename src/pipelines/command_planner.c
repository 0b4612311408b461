/*-------------------------------------------------------------------------
 *
 * command_planner.c
 *	  Plans of a pipeline's command that are made for the size of a batch
 *	  and kept for the later batches of about that size.
 *
 * A custom plan, made for each batch with its parameters' values, is the
 * right plan for that batch: a batch of ten ids reads them through the
 * index, a backlog batch of millions may read the whole table.  But at a
 * short schedule that planning was a seventh of a worker's CPU (bench/,
 * figure 3), and a pipeline's batches mostly cover ranges of about the
 * same size, for which the same plan is right.  A generic plan is no
 * answer: it is made without values, for a BETWEEN of unknowns that the
 * planner takes to match half a percent of the source, the plan of
 * neither a small batch nor a backlog.
 *
 * So a batch runs a generic plan of PostgreSQL's plan cache, whose
 * parameters stay parameters, planned with the values of the batch that
 * first needed it as estimates: the planner folds a bound parameter into
 * a constant only when it is marked PARAM_FLAG_CONST, and otherwise uses
 * its value only to estimate selectivities (eval_const_expressions,
 * estimate_expression_value).  Such a plan is right for any values, and
 * chosen for a range of that size.  The command cache (command_cache.c)
 * keeps one per class of batch size, a factor of 4 apart; the plan cache
 * invalidates each on DDL as it does any prepared statement's.
 *
 * The planner hook lends the values only to the planning of that plan
 * source (its query string, compared by address), so the queries that
 * functions of the command plan while it runs are planned as they would
 * be anyway.
 *
 * A command over partitions keeps a custom plan per batch, made for its
 * own values (CommandNeedsCustomPlans), and so does every command with
 * Citus in the database (command_cache.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "nodes/params.h"
#include "optimizer/planner.h"
#include "port/pg_bitutils.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"

#include "pipelines/command_planner.h"

static PlannedStmt *EstimatingPlanner(Query *parse, const char *queryString,
									  int cursorOptions, ParamListInfo boundParams);

static planner_hook_type PreviousPlannerHook = NULL;

/* while a batch runs an estimated plan: its plan source, and the values */
static const char *EstimatedQueryString = NULL;
static ParamListInfo EstimateParams = NULL;


void
InstallCommandPlanner(void)
{
	PreviousPlannerHook = planner_hook;
	planner_hook = EstimatingPlanner;
}


static PlannedStmt *
EstimatingPlanner(Query *parse, const char *queryString, int cursorOptions,
				  ParamListInfo boundParams)
{
	/* the plan cache plans a generic plan without values: lend the batch's */
	if (EstimateParams != NULL && boundParams == NULL && queryString != NULL &&
		queryString == EstimatedQueryString)
		boundParams = EstimateParams;

	if (PreviousPlannerHook != NULL)
		return PreviousPlannerHook(parse, queryString, cursorOptions, boundParams);
	return standard_planner(parse, queryString, cursorOptions, boundParams);
}


/*
 * CommandNeedsCustomPlans: whether the prepared command reads a partitioned
 * table, or a table with children.  A custom plan leaves out, and never
 * locks, the partitions that its range rules out; a plan with parameters
 * keeps them all, prunes them only as it starts, and in PostgreSQL 15
 * locks every one of them first, at every batch.  Those locks would make
 * each batch collide with the DDL that detaches and drops old partitions
 * (stream maintenance, pg_partman), which custom plans never touch.
 */
bool
CommandNeedsCustomPlans(SPIPlanPtr plan)
{
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources(plan));
	ListCell   *cell;

	foreach(cell, source->relationOids)
	{
		Oid			relationId = lfirst_oid(cell);

		if (get_rel_relkind(relationId) == RELKIND_PARTITIONED_TABLE ||
			has_subclass(relationId))
			return true;
	}
	return false;
}


/*
 * BatchSizeClass: the class of the batch's size, for a range of ids or of
 * time between two parameters (a factor of 4 per class, up to
 * BATCH_SIZE_CLASSES - 1); 0 for any other parameters, a file name.
 */
int
BatchSizeClass(int nargs, Oid *argtypes, Datum *values)
{
	int64		from;
	int64		to;
	uint64		width;

	if (nargs != 2 || argtypes[0] != argtypes[1] ||
		(argtypes[0] != INT8OID && argtypes[0] != TIMESTAMPTZOID &&
		 argtypes[0] != TIMESTAMPOID))
		return 0;

	/* int8, timestamp and timestamptz are all an int64 */
	from = DatumGetInt64(values[0]);
	to = DatumGetInt64(values[1]);
	if (to <= from)
		return 0;
	width = (uint64) to - (uint64) from + 1;
	if (width == 0)				/* all of int64 */
		return BATCH_SIZE_CLASSES - 1;
	return Min(pg_leftmost_one_pos64(width) / 2, BATCH_SIZE_CLASSES - 1);
}


/*
 * ExecuteEstimatedPlan runs a plan prepared with CURSOR_OPT_GENERIC_PLAN,
 * which the plan cache plans, when it has no valid plan yet, with the
 * given values as estimates.
 */
int
ExecuteEstimatedPlan(SPIPlanPtr plan, int nargs, Oid *argtypes, Datum *values)
{
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources(plan));
	ParamListInfo params = makeParamList(nargs);
	const char *outerQueryString = EstimatedQueryString;
	ParamListInfo outerParams = EstimateParams;
	int			result = 0;

	for (int i = 0; i < nargs; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = 0;	/* not PARAM_FLAG_CONST: estimates only */
		params->params[i].ptype = argtypes[i];
	}

	EstimatedQueryString = source->query_string;
	EstimateParams = params;
	PG_TRY();
	{
		result = SPI_execute_plan_with_paramlist(plan, params, false, 0);
	}
	PG_FINALLY();
	{
		/* a command that ran another pipeline's batch had its own */
		EstimatedQueryString = outerQueryString;
		EstimateParams = outerParams;
	}
	PG_END_TRY();

	return result;
}
