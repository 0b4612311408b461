/*-------------------------------------------------------------------------
 *
 * cv_window.c
 *	  Sliding windows of continuous views: "hits in the last five minutes",
 *	  always current and exact to the step.
 *
 * The storage keeps one group per step of the window (a twentieth of it,
 * PipelineDB's default step factor of 5%), with the step's start as one
 * more key; the view combines, at read time, the steps that start within
 * the window, and the view's expiry pipeline deletes the steps that left
 * it.  A window is asked for with the sliding_window and sliding_column
 * options, or with PipelineDB's WHERE condition on the time column.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "continuous_views/cv_analyze.h"
#include "continuous_views/cv_window.h"

static bool IsSlidingWindowCondition(Node *node, Node **column, Interval **window);
static bool ContainsCurrentTimeWalker(Node *node, void *context);


/*
 * A top-level condition "column > clock_timestamp() - interval" (or >=, or
 * now()) of WHERE asks for a sliding window, as in PipelineDB: it is taken
 * out of the query, which a batch could not evaluate, and the window and
 * its column returned.  NULL when there is none.
 */
Node *
TakeSlidingWindowCondition(Query *query, Interval **window)
{
	Node	   *quals;
	List	   *conditions;
	ListCell   *cell;

	if (query->jointree == NULL || query->jointree->quals == NULL)
		return NULL;

	quals = query->jointree->quals;
	conditions = is_andclause(quals) ? ((BoolExpr *) quals)->args : list_make1(quals);
	foreach(cell, conditions)
	{
		Node	   *column;

		if (IsSlidingWindowCondition(lfirst(cell), &column, window))
		{
			List	   *rest = list_delete_nth_cell(list_copy(conditions),
													foreach_current_index(cell));

			query->jointree->quals = rest == NIL ? NULL :
				list_length(rest) == 1 ? linitial(rest) : (Node *) makeBoolExpr(AND_EXPR, rest, -1);
			return column;
		}
	}
	return NULL;
}


static bool
IsSlidingWindowCondition(Node *node, Node **column, Interval **window)
{
	OpExpr	   *comparison;
	OpExpr	   *difference;
	Node	   *now;
	Node	   *width;
	char	   *name;

	if (!IsA(node, OpExpr) || list_length(((OpExpr *) node)->args) != 2)
		return false;
	comparison = (OpExpr *) node;
	name = get_opname(comparison->opno);
	if (name == NULL || (strcmp(name, ">") != 0 && strcmp(name, ">=") != 0))
		return false;
	if (!IsA(linitial(comparison->args), Var) || !IsA(lsecond(comparison->args), OpExpr))
		return false;

	difference = (OpExpr *) lsecond(comparison->args);
	name = get_opname(difference->opno);
	if (name == NULL || strcmp(name, "-") != 0 || list_length(difference->args) != 2)
		return false;
	now = linitial(difference->args);
	width = lsecond(difference->args);
	/* the current instant: CURRENT_DATE - interval '1 day' is a midnight */
	if (!IsCurrentTime(now) || exprType(now) != TIMESTAMPTZOID || !IsA(width, Const) ||
		((Const *) width)->constisnull || ((Const *) width)->consttype != INTERVALOID)
		return false;

	*column = linitial(comparison->args);
	*window = DatumGetIntervalP(((Const *) width)->constvalue);
	return true;
}


/*
 * Whether an expression is the current time: now(), clock_timestamp(),
 * statement_timestamp(), transaction_timestamp(), timeofday(), or
 * CURRENT_TIMESTAMP, LOCALTIMESTAMP, CURRENT_DATE and the like.
 */
bool
IsCurrentTime(Node *node)
{
	if (IsA(node, SQLValueFunction))
	{
		switch (((SQLValueFunction *) node)->op)
		{
			case SVFOP_CURRENT_DATE:
			case SVFOP_CURRENT_TIME:
			case SVFOP_CURRENT_TIME_N:
			case SVFOP_CURRENT_TIMESTAMP:
			case SVFOP_CURRENT_TIMESTAMP_N:
			case SVFOP_LOCALTIME:
			case SVFOP_LOCALTIME_N:
			case SVFOP_LOCALTIMESTAMP:
			case SVFOP_LOCALTIMESTAMP_N:
				return true;
			default:
				return false;
		}
	}
	if (IsA(node, FuncExpr) &&
		get_func_namespace(((FuncExpr *) node)->funcid) == PG_CATALOG_NAMESPACE)
	{
		char	   *name = get_func_name(((FuncExpr *) node)->funcid);

		return strcmp(name, "now") == 0 || strcmp(name, "clock_timestamp") == 0 ||
			strcmp(name, "statement_timestamp") == 0 ||
			strcmp(name, "transaction_timestamp") == 0 || strcmp(name, "timeofday") == 0;
	}
	return false;
}


/* Whether an expression (or a query in it) uses the current time */
bool
ContainsCurrentTime(Node *node)
{
	return ContainsCurrentTimeWalker(node, NULL);
}


static bool
ContainsCurrentTimeWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsCurrentTime(node))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ContainsCurrentTimeWalker, context, 0);
	return expression_tree_walker(node, ContainsCurrentTimeWalker, context);
}


/*
 * A sliding window's step key: date_bin(step, column, 2000-01-01), the step
 * a twentieth of the window (PipelineDB's default step factor of 5%).
 */
void
AddWindowStep(ContinuousViewDefinition *definition, ContinuousViewOptions *options,
			  Node *windowColumn, List **names)
{
	CVGroupKey *key;
	Oid			columnType;
	Oid			argumentTypes[3];
	Oid			binFunction;
	Const	   *step;
	Const	   *origin;

	if (options->slidingWindow != NULL)
	{
		if (windowColumn != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sliding window is given twice, in WHERE and as an option"),
					 errhint("Keep one of them.")));
		definition->slidingWindow = options->slidingWindow;
	}
	else if (options->slidingColumn != NULL && windowColumn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sliding_column needs sliding_window")));

	if (definition->slidingWindow == NULL)
		return;

	if (DatumGetBool(DirectFunctionCall2(interval_le,
										 IntervalPGetDatum(definition->slidingWindow),
										 IntervalPGetDatum(palloc0(sizeof(Interval))))) ||
		definition->slidingWindow->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a sliding window must be longer than zero and given in days or less"),
				 errhint("Use an interval such as '5 minutes' or '7 days'.")));

	if (windowColumn == NULL)
	{
		AttrNumber	attnum;

		if (options->slidingColumn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a sliding window needs its time column"),
					 errhint("Name the source's column with sliding_column.")));
		attnum = get_attnum(definition->sourceRelationId, options->slidingColumn);
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the source does not exist",
							options->slidingColumn)));
		columnType = get_atttype(definition->sourceRelationId, attnum);
		windowColumn = (Node *) makeVar(definition->sourceRangeIndex, attnum, columnType, -1,
										InvalidOid, 0);
	}

	columnType = exprType(windowColumn);
	if (columnType != TIMESTAMPTZOID && columnType != TIMESTAMPOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the time column of a sliding window must be of type timestamptz or timestamp")));

	definition->slidingStep = DatumGetIntervalP(DirectFunctionCall2(interval_div,
																	IntervalPGetDatum(definition->slidingWindow),
																	Float8GetDatum(20.0)));
	argumentTypes[0] = INTERVALOID;
	argumentTypes[1] = columnType;
	argumentTypes[2] = columnType;
	binFunction = LookupFuncName(list_make1(makeString("date_bin")), 3, argumentTypes, false);
	step = makeConst(INTERVALOID, -1, InvalidOid, sizeof(Interval),
					 IntervalPGetDatum(definition->slidingStep), false, false);
	origin = makeConst(columnType, -1, InvalidOid, sizeof(Timestamp),
					   TimestampGetDatum(0), false, FLOAT8PASSBYVAL);

	key = palloc0(sizeof(CVGroupKey));
	key->expr = (Expr *) makeFuncExpr(binFunction, columnType,
									  list_make3(step, copyObject(windowColumn), origin),
									  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	key->columnName = UniqueColumnName("window_step", names);
	key->typeName = format_type_be(columnType);
	key->isWindowStep = true;
	definition->groupKeys = lappend(definition->groupKeys, key);
}
