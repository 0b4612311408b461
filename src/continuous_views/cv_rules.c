/*-------------------------------------------------------------------------
 *
 * cv_rules.c
 *	  The aggregate rule table: how a continuous view keeps each aggregate
 *	  it supports in ordinary typed columns, and merges a batch into them.
 *
 * Every rule decomposes its aggregate into state parts whose merge is
 * exact: counts and sums add (NULL-guarded: a sum over no rows is NULL),
 * min and max take the lesser or greater, the moments of variance and
 * regression combine as PostgreSQL's own float8_combine and
 * float8_regr_combine do (Chan et al.), and sketches (hll, tdigest) union.
 * Each part also has a "combine" aggregate that merges any number of
 * stored rows, which real-time views and coarser ad-hoc queries use.
 *
 * Integer and numeric variances are kept as exact numeric sums of x and
 * x*x, so that their results equal PostgreSQL's, which computes them from
 * the same sums; float variances and regressions keep PostgreSQL's own
 * float moments, merged with its own formulas.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/hash.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_am.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "parser/parse_coerce.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"

#include "continuous_views/cv_rules.h"

/* Aggregates whose parts are named by the rule's kind */
typedef enum CVRuleKind
{
	RULE_COUNT,
	RULE_SUM,
	RULE_MIN,
	RULE_MAX,
	RULE_AVG,
	RULE_VARIANCE,
	RULE_BOOL_AND,
	RULE_BOOL_OR,
	RULE_BIT_AND,
	RULE_BIT_OR,
	RULE_REGRESSION,
	RULE_COUNT_DISTINCT,
	RULE_PERCENTILE,
	RULE_HLL,
	RULE_TDIGEST
} CVRuleKind;

typedef struct CVRuleName
{
	const char *name;
	CVRuleKind	kind;
} CVRuleName;

/* Built-in aggregates, in schema pg_catalog */
static const CVRuleName BuiltinRules[] = {
	{"count", RULE_COUNT},
	{"sum", RULE_SUM},
	{"min", RULE_MIN},
	{"max", RULE_MAX},
	{"avg", RULE_AVG},
	{"variance", RULE_VARIANCE},
	{"var_samp", RULE_VARIANCE},
	{"var_pop", RULE_VARIANCE},
	{"stddev", RULE_VARIANCE},
	{"stddev_samp", RULE_VARIANCE},
	{"stddev_pop", RULE_VARIANCE},
	{"bool_and", RULE_BOOL_AND},
	{"every", RULE_BOOL_AND},
	{"bool_or", RULE_BOOL_OR},
	{"bit_and", RULE_BIT_AND},
	{"bit_or", RULE_BIT_OR},
	{"regr_count", RULE_REGRESSION},
	{"regr_sxx", RULE_REGRESSION},
	{"regr_syy", RULE_REGRESSION},
	{"regr_sxy", RULE_REGRESSION},
	{"regr_avgx", RULE_REGRESSION},
	{"regr_avgy", RULE_REGRESSION},
	{"regr_slope", RULE_REGRESSION},
	{"regr_intercept", RULE_REGRESSION},
	{"regr_r2", RULE_REGRESSION},
	{"corr", RULE_REGRESSION},
	{"covar_pop", RULE_REGRESSION},
	{"covar_samp", RULE_REGRESSION},
	{"percentile_cont", RULE_PERCENTILE},
	{"percentile_disc", RULE_PERCENTILE},
};

/* The compression of the t-digests that percentiles are kept in */
#define CV_TDIGEST_COMPRESSION "100"

/* The moments of a float variance and of a regression, in PostgreSQL's order */
#define MOMENTS_COMBINE "incremental.merge_moments"
#define REGR_MOMENTS_COMBINE "incremental.merge_regr_moments"

static void SetPart(CVAggregate *aggregate, const char *suffix, const char *typeName,
					char *batchExpr, const char *mergeTemplate,
					const char *combineTemplate);
static char *FilterClause(const char *filterColumn, const char *extraCondition);
static const char *ExtensionSchema(ContinuousViewDefinition *definition,
								   const char *extensionName, const char *aggregateName);
static char *ExtendedHashCall(Oid typeId, const char *argument, const char *hll);
static char *DirectArgumentText(Aggref *aggref);
static char *ArgumentsAsDeclared(CVRuleInput *input);
static void BuildVarianceRule(CVAggregate *aggregate, CVRuleInput *input,
							  const char *name, char *arg, char *filter);
static void BuildRegressionRule(CVAggregate *aggregate, CVRuleInput *input,
								const char *name);
static Oid	ExtensionNamespace(Oid extensionId);
static char *SpreadMerge(const char *stored, const char *new, const char *sumA1,
						 const char *sumA2, const char *sumB1, const char *sumB2);
static bool UseExactDistinct(ContinuousViewDefinition *definition);
static void RefuseAggregate(Aggref *aggref, const char *detail, const char *hint);


const char *
SupportedAggregatesText(void)
{
	return "count, count(DISTINCT), sum, min, max, avg, "
		"variance, var_samp, var_pop, stddev, stddev_samp, stddev_pop, "
		"bool_and, bool_or, every, bit_and, bit_or, regr_count, regr_sxx, regr_syy, "
		"regr_sxy, regr_avgx, regr_avgy, regr_slope, regr_intercept, regr_r2, corr, "
		"covar_pop, covar_samp, percentile_cont and percentile_disc (with the tdigest "
		"extension), hll_add_agg, hll_union_agg and tdigest";
}


void
ApplyAggregateRule(ContinuousViewDefinition *definition, CVAggregate *aggregate,
				   CVRuleInput *input)
{
	Aggref	   *aggref = input->aggref;
	Oid			functionId = aggref->aggfnoid;
	char	   *functionName = get_func_name(functionId);
	Oid			namespaceId = get_func_namespace(functionId);
	Oid			extensionId = getExtensionOfObject(ProcedureRelationId, functionId);
	char	   *extensionName = OidIsValid(extensionId) ? get_extension_name(extensionId) : NULL;
	CVRuleKind	kind = RULE_COUNT;
	bool		found = false;
	char	   *arg = NULL;
	char	   *filter = FilterClause(input->filterColumn, NULL);
	Oid			argType = InvalidOid;
	char	   *resultType = SqlTypeName(aggref->aggtype, -1, InvalidOid);

	if (namespaceId == PG_CATALOG_NAMESPACE)
	{
		for (size_t i = 0; i < lengthof(BuiltinRules); i++)
		{
			if (strcmp(BuiltinRules[i].name, functionName) == 0)
			{
				kind = BuiltinRules[i].kind;
				found = true;
				break;
			}
		}
	}
	else if (extensionName != NULL && strcmp(extensionName, "hll") == 0 &&
			 (strcmp(functionName, "hll_add_agg") == 0 ||
			  strcmp(functionName, "hll_union_agg") == 0))
	{
		kind = RULE_HLL;
		found = true;
	}
	else if (extensionName != NULL && strcmp(extensionName, "tdigest") == 0 &&
			 strcmp(functionName, "tdigest") == 0)
	{
		kind = RULE_TDIGEST;
		found = true;
	}

	if (!found)
		RefuseAggregate(aggref, NULL, NULL);

	if (aggref->aggdistinct != NIL)
	{
		/* these give the same value over distinct inputs as over all */
		if (kind == RULE_COUNT && !aggref->aggstar)
			kind = RULE_COUNT_DISTINCT;
		else if (kind != RULE_MIN && kind != RULE_MAX && kind != RULE_BOOL_AND &&
				 kind != RULE_BOOL_OR && kind != RULE_BIT_AND && kind != RULE_BIT_OR)
			RefuseAggregate(aggref, "Of the aggregates with DISTINCT, only count(DISTINCT ...) "
							"can be kept: a sum or an average of distinct values would need "
							"every value seen so far.", NULL);
	}

	if (aggref->aggkind == AGGKIND_NORMAL && aggref->aggorder != NIL)
		RefuseAggregate(aggref, "An aggregate with ORDER BY depends on the order of all its "
						"rows, which batches do not see together.",
						"Drop the ORDER BY inside the aggregate.");

	if (input->argumentColumns != NIL)
	{
		arg = linitial(input->argumentColumns);
		argType = exprType((Node *) ((TargetEntry *) linitial(aggref->args))->expr);
	}

	aggregate->resultType = resultType;
	aggregate->ruleName = functionName;

	switch (kind)
	{
		case RULE_COUNT:
			SetPart(aggregate, "count", "bigint",
					aggref->aggstar ? psprintf("count(*)%s", filter) :
					psprintf("count(%s)%s", arg, filter),
					"%1$s + %2$s", "sum(%1$s)::bigint");
			aggregate->finalTemplate = "coalesce(%1$s, 0)";
			break;

		case RULE_SUM:
			SetPart(aggregate, "sum", resultType, psprintf("sum(%s)%s", arg, filter),
					"coalesce(%1$s + %2$s, %1$s, %2$s)",
					psprintf("sum(%%1$s)::%s", resultType));
			aggregate->finalTemplate = "%1$s";
			break;

		case RULE_MIN:
		case RULE_MAX:
			{
				const char *fn = kind == RULE_MIN ? "min" : "max";

				SetPart(aggregate, fn, SqlTypeName(aggref->aggtype, -1, aggref->inputcollid),
						psprintf("%s(%s)%s", fn, arg, filter),
						kind == RULE_MIN ? "least(%1$s, %2$s)" : "greatest(%1$s, %2$s)",
						kind == RULE_MIN ? "min(%1$s)" : "max(%1$s)");
				aggregate->finalTemplate = "%1$s";
				break;
			}

		case RULE_AVG:
			{
				const char *sumType;
				const char *sumExpr;

				switch (argType)
				{
					case INT2OID:
					case INT4OID:
						sumType = "bigint";
						sumExpr = psprintf("sum(%s)%s", arg, filter);
						aggregate->finalTemplate = "%1$s::numeric / NULLIF(%2$s, 0)::numeric";
						break;
					case INT8OID:
					case NUMERICOID:
						sumType = "numeric";
						sumExpr = psprintf("sum(%s)%s", arg, filter);
						aggregate->finalTemplate = "%1$s / NULLIF(%2$s, 0)::numeric";
						break;
					case FLOAT4OID:
					case FLOAT8OID:
						sumType = "double precision";
						sumExpr = psprintf("sum(%s::double precision)%s", arg, filter);
						aggregate->finalTemplate = "%1$s / NULLIF(%2$s, 0)::double precision";
						break;
					case INTERVALOID:
						sumType = "interval";
						sumExpr = psprintf("sum(%s)%s", arg, filter);
						aggregate->finalTemplate = "%1$s / NULLIF(%2$s, 0)::double precision";
						break;
					default:
						RefuseAggregate(aggref, NULL, NULL);
						return;
				}
				SetPart(aggregate, "sum", sumType, (char *) sumExpr,
						"coalesce(%1$s + %2$s, %1$s, %2$s)",
						psprintf("sum(%%1$s)::%s", sumType));
				SetPart(aggregate, "count", "bigint", psprintf("count(%s)%s", arg, filter),
						"%3$s + %4$s", "sum(%2$s)::bigint");
				break;
			}

		case RULE_VARIANCE:
			BuildVarianceRule(aggregate, input, functionName, arg, filter);
			break;

		case RULE_BOOL_AND:
		case RULE_BOOL_OR:
		case RULE_BIT_AND:
		case RULE_BIT_OR:
			{
				bool		isAnd = kind == RULE_BOOL_AND || kind == RULE_BIT_AND;
				bool		isBool = kind == RULE_BOOL_AND || kind == RULE_BOOL_OR;
				const char *fn = isBool ? (isAnd ? "bool_and" : "bool_or") :
				(isAnd ? "bit_and" : "bit_or");
				const char *op = isBool ? (isAnd ? "AND" : "OR") : (isAnd ? "&" : "|");

				/* NULL AND true is NULL: a side without values leaves the other */
				SetPart(aggregate, isAnd ? "and" : "or", resultType,
						psprintf("%s(%s)%s", fn, arg, filter),
						psprintf("CASE WHEN %%1$s IS NULL THEN %%2$s WHEN %%2$s IS NULL "
								 "THEN %%1$s ELSE %%1$s %s %%2$s END", op),
						psprintf("%s(%%1$s)", fn));
				aggregate->finalTemplate = "%1$s";
				break;
			}

		case RULE_REGRESSION:
			BuildRegressionRule(aggregate, input, functionName);
			break;

		case RULE_COUNT_DISTINCT:
			if (UseExactDistinct(definition))
			{
				if (!OidIsValid(GetDefaultOpClass(argType, BTREE_AM_OID)))
					RefuseAggregate(aggref,
									psprintf("An exact distinct count keeps the values in a "
											 "unique index, and type %s has no btree "
											 "operator class.", format_type_be(argType)),
									NULL);

				/* the batch expression needs the side table: see cv_sql.c */
				SetPart(aggregate, "count", "bigint", NULL, "%1$s + %2$s",
						"sum(%1$s)::bigint");
				aggregate->finalTemplate = "coalesce(%1$s, 0)";
				aggregate->exactDistinct = true;
				aggregate->distinctColumn = arg;
				aggregate->filterColumn = input->filterColumn;
				aggregate->distinctTypeName = SqlTypeName(argType, -1, aggref->inputcollid);
				definition->hasExactDistinct = true;
				break;
			}
			else
			{
				const char *hll = ExtensionSchema(definition, "hll", "count(DISTINCT ...)");
				char	   *hash = ExtendedHashCall(argType, arg, hll);

				if (hash == NULL)
					RefuseAggregate(aggref,
									psprintf("Type %s has no hash function, which the "
											 "distinct count's HyperLogLog needs.",
											 format_type_be(argType)), NULL);

				SetPart(aggregate, "hll", psprintf("%s.hll", hll),
						psprintf("%s.hll_add_agg(%s)%s", hll, hash, filter),
						psprintf("coalesce(%s.hll_union(%%1$s, %%2$s), %%1$s, %%2$s)", hll),
						psprintf("%s.hll_union_agg(%%1$s)", hll));
				aggregate->finalTemplate =
					psprintf("coalesce(round(%s.hll_cardinality(%%1$s)), 0)", hll);
				break;
			}

		case RULE_PERCENTILE:
			{
				const char *tdigest = ExtensionSchema(definition, "tdigest", functionName);
				char	   *fraction = DirectArgumentText(aggref);

				if (argType != INT2OID && argType != INT4OID && argType != INT8OID &&
					argType != FLOAT4OID && argType != FLOAT8OID && argType != NUMERICOID)
					RefuseAggregate(aggref,
									psprintf("Percentiles are kept in t-digests, which hold "
											 "numbers; the values are of type %s.",
											 format_type_be(argType)), NULL);

				SetPart(aggregate, "digest", psprintf("%s.tdigest", tdigest),
						psprintf("%s.tdigest(%s::double precision, " CV_TDIGEST_COMPRESSION ")%s",
								 tdigest, arg, filter),
						psprintf("%s.tdigest_union(%%1$s, %%2$s)", tdigest),
						psprintf("%s.tdigest(%%1$s)", tdigest));

				/* tdigest_percentile is an aggregate: over the one stored digest */
				aggregate->finalTemplate =
					psprintf("(SELECT %s.tdigest_percentile(d.d, %s) FROM (VALUES (%%1$s)) d(d))",
							 tdigest, fraction);
				break;
			}

		case RULE_HLL:
			{
				const char *hll = ExtensionSchema(definition, "hll", functionName);

				SetPart(aggregate, "hll", psprintf("%s.hll", hll),
						psprintf("%s.%s(%s)%s", hll, quote_identifier(functionName),
								 ArgumentsAsDeclared(input), filter),
						psprintf("coalesce(%s.hll_union(%%1$s, %%2$s), %%1$s, %%2$s)", hll),
						psprintf("%s.hll_union_agg(%%1$s)", hll));
				aggregate->finalTemplate = "%1$s";
				break;
			}

		case RULE_TDIGEST:
			{
				const char *tdigest = ExtensionSchema(definition, "tdigest", functionName);

				SetPart(aggregate, "digest", psprintf("%s.tdigest", tdigest),
						psprintf("%s.tdigest(%s)%s", tdigest, ArgumentsAsDeclared(input), filter),
						psprintf("%s.tdigest_union(%%1$s, %%2$s)", tdigest),
						psprintf("%s.tdigest(%%1$s)", tdigest));
				aggregate->finalTemplate = "%1$s";
				break;
			}
	}
}


/*
 * The variances and standard deviations.  Integer and numeric input: the
 * exact sums n, Σx and Σx² in numeric, from which PostgreSQL computes its
 * own result.  Float input: PostgreSQL's float moments (n, Σx and Σ(x-x̄)²),
 * a batch's from var_pop, merged as float8_combine merges them.
 */
static void
BuildVarianceRule(CVAggregate *aggregate, CVRuleInput *input, const char *name,
				  char *arg, char *filter)
{
	Oid			argType = exprType((Node *) ((TargetEntry *) linitial(input->aggref->args))->expr);
	bool		sample = strcmp(name, "var_pop") != 0 && strcmp(name, "stddev_pop") != 0;
	bool		root = strncmp(name, "stddev", 6) == 0;
	char	   *variance;

	if (argType == FLOAT4OID || argType == FLOAT8OID)
	{
		SetPart(aggregate, "n", "bigint", psprintf("count(%s)%s", arg, filter),
				"%1$s + %2$s",
				"(" MOMENTS_COMBINE "(ARRAY[%1$s::double precision, %2$s, %3$s]) "
				"FILTER (WHERE %1$s IS NOT NULL))[1]::bigint");
		SetPart(aggregate, "sx", "double precision",
				psprintf("coalesce(sum(%s::double precision)%s, 0)", arg, filter),
				"%3$s + %4$s",
				"(" MOMENTS_COMBINE "(ARRAY[%1$s::double precision, %2$s, %3$s]) "
				"FILTER (WHERE %1$s IS NOT NULL))[2]");
		SetPart(aggregate, "sxx", "double precision",
				psprintf("coalesce(var_pop(%s::double precision)%s * count(%s)%s, 0)",
						 arg, filter, arg, filter),
				"CASE WHEN %1$s = 0 THEN %6$s WHEN %2$s = 0 THEN %5$s "
				"ELSE %5$s + %6$s + %1$s::double precision * %2$s::double precision "
				"* (%3$s / %1$s - %4$s / %2$s) * (%3$s / %1$s - %4$s / %2$s) "
				"/ (%1$s + %2$s)::double precision END",
				"(" MOMENTS_COMBINE "(ARRAY[%1$s::double precision, %2$s, %3$s]) "
				"FILTER (WHERE %1$s IS NOT NULL))[3]");
		variance = sample ?
			"CASE WHEN %1$s > 1 THEN %3$s / (%1$s - 1)::double precision END" :
			"CASE WHEN %1$s > 0 THEN %3$s / %1$s::double precision END";
	}
	else if (argType == INT2OID || argType == INT4OID || argType == INT8OID ||
			 argType == NUMERICOID)
	{
		SetPart(aggregate, "n", "bigint", psprintf("count(%s)%s", arg, filter),
				"%1$s + %2$s", "sum(%1$s)::bigint");
		SetPart(aggregate, "sx", "numeric", psprintf("sum(%s::numeric)%s", arg, filter),
				"coalesce(%3$s + %4$s, %3$s, %4$s)", "sum(%2$s)");
		SetPart(aggregate, "sxx", "numeric",
				psprintf("sum(%s::numeric * %s::numeric)%s", arg, arg, filter),
				"coalesce(%5$s + %6$s, %5$s, %6$s)", "sum(%3$s)");
		/* as numeric_stddev_internal: (nΣx² - (Σx)²) / (n(n-1)) or / n² */
		variance = sample ?
			"CASE WHEN %1$s <= 1 THEN NULL "
			"WHEN %1$s * %3$s - %2$s * %2$s <= 0 THEN 0::numeric "
			"ELSE (%1$s * %3$s - %2$s * %2$s) / (%1$s::numeric * (%1$s - 1)) END" :
			"CASE WHEN %1$s = 0 THEN NULL "
			"WHEN %1$s * %3$s - %2$s * %2$s <= 0 THEN 0::numeric "
			"ELSE (%1$s * %3$s - %2$s * %2$s) / (%1$s::numeric * %1$s) END";
	}
	else
	{
		RefuseAggregate(input->aggref, NULL, NULL);
		return;
	}

	if (!root)
		aggregate->finalTemplate = variance;
	else if (argType == FLOAT4OID || argType == FLOAT8OID)
		aggregate->finalTemplate = psprintf("sqrt(%s)", variance);
	else
	{
		/*
		 * PostgreSQL takes the root at the variance's own scale, rounded;
		 * sqrt() of numeric picks a scale of its own.  Thirty more digits
		 * first, then rounding to that scale, gives the same digits (a
		 * square root is not a decimal that ends in 5 at that point, unless
		 * it ends there).
		 */
		aggregate->finalTemplate =
			psprintf("round(sqrt((%s) + 0.000000000000000000000000000000), scale(%s))",
					 variance, variance);
	}
}


/*
 * The regression aggregates, over the pairs where both values are not
 * NULL: PostgreSQL's six moments (n, Σx, Σ(x-x̄)², Σy, Σ(y-ȳ)²,
 * Σ(x-x̄)(y-ȳ)), merged as float8_regr_combine merges them, and the
 * results computed from them as PostgreSQL's float8_regr_* do.  The first
 * argument is Y, the second X.
 */
static void
BuildRegressionRule(CVAggregate *aggregate, CVRuleInput *input, const char *name)
{
	char	   *y = linitial(input->argumentColumns);
	char	   *x = lsecond(input->argumentColumns);
	char	   *pairs = FilterClause(input->filterColumn,
									 psprintf("%s IS NOT NULL AND %s IS NOT NULL", y, x));
	char	   *filter = FilterClause(input->filterColumn, NULL);
	const char *combine = "(" REGR_MOMENTS_COMBINE "(ARRAY[%1$s::double precision, %2$s, "
		"%3$s, %4$s, %5$s, %6$s]) FILTER (WHERE %1$s IS NOT NULL))";
	struct
	{
		const char *name;
		const char *final;
	}			finals[] = {
		{"regr_count", "coalesce(%1$s, 0)"},
		{"regr_sxx", "CASE WHEN %1$s >= 1 THEN %3$s END"},
		{"regr_syy", "CASE WHEN %1$s >= 1 THEN %5$s END"},
		{"regr_sxy", "CASE WHEN %1$s >= 1 THEN %6$s END"},
		{"regr_avgx", "CASE WHEN %1$s >= 1 THEN %2$s / %1$s::double precision END"},
		{"regr_avgy", "CASE WHEN %1$s >= 1 THEN %4$s / %1$s::double precision END"},
		{"covar_pop", "CASE WHEN %1$s >= 1 THEN %6$s / %1$s::double precision END"},
		{"covar_samp", "CASE WHEN %1$s >= 2 THEN %6$s / (%1$s - 1)::double precision END"},
		{"corr", "CASE WHEN %1$s >= 1 AND %3$s <> 0 AND %5$s <> 0 "
		"THEN %6$s / sqrt(%3$s * %5$s) END"},
		{"regr_r2", "CASE WHEN %1$s < 1 OR %3$s = 0 THEN NULL WHEN %5$s = 0 "
		"THEN 1::double precision ELSE (%6$s * %6$s) / (%3$s * %5$s) END"},
		{"regr_slope", "CASE WHEN %1$s >= 1 AND %3$s <> 0 THEN %6$s / %3$s END"},
		{"regr_intercept", "CASE WHEN %1$s >= 1 AND %3$s <> 0 "
		"THEN (%4$s - %2$s * %6$s / %3$s) / %1$s::double precision END"},
	};

	SetPart(aggregate, "n", "bigint", psprintf("regr_count(%s, %s)%s", y, x, filter),
			"%1$s + %2$s", psprintf("%s[1]::bigint", combine));
	SetPart(aggregate, "sx", "double precision",
			psprintf("coalesce(sum(%s)%s, 0)", x, pairs),
			"%3$s + %4$s", psprintf("%s[2]", combine));

	SetPart(aggregate, "sxx", "double precision",
			psprintf("coalesce(regr_sxx(%s, %s)%s, 0)", y, x, filter),
			SpreadMerge("%5$s", "%6$s", "%3$s", "%4$s", "%3$s", "%4$s"),
			psprintf("%s[3]", combine));
	SetPart(aggregate, "sy", "double precision",
			psprintf("coalesce(sum(%s)%s, 0)", y, pairs),
			"%7$s + %8$s", psprintf("%s[4]", combine));
	SetPart(aggregate, "syy", "double precision",
			psprintf("coalesce(regr_syy(%s, %s)%s, 0)", y, x, filter),
			SpreadMerge("%9$s", "%10$s", "%7$s", "%8$s", "%7$s", "%8$s"),
			psprintf("%s[5]", combine));
	SetPart(aggregate, "sxy", "double precision",
			psprintf("coalesce(regr_sxy(%s, %s)%s, 0)", y, x, filter),
			SpreadMerge("%11$s", "%12$s", "%3$s", "%4$s", "%7$s", "%8$s"),
			psprintf("%s[6]", combine));

	for (size_t i = 0; i < lengthof(finals); i++)
	{
		if (strcmp(finals[i].name, name) == 0)
		{
			aggregate->finalTemplate = (char *) finals[i].final;
			return;
		}
	}
	RefuseAggregate(input->aggref, NULL, NULL);
}


/*
 * The merge of a centered sum of products (Σ(x-x̄)², Σ(y-ȳ)² or
 * Σ(x-x̄)(y-ȳ)), as float8_combine and float8_regr_combine compute it: the
 * two sums plus n1·n2/(n1+n2) times the product of the differences of the
 * two sides' means.  The counts are the first part (%1$s stored, %2$s
 * new); the arguments name the placeholders of the sum itself and of the
 * plain sums of the two means (stored, new).
 */
static char *
SpreadMerge(const char *stored, const char *new, const char *sumA1, const char *sumA2,
			const char *sumB1, const char *sumB2)
{
	return psprintf("CASE WHEN %%1$s = 0 THEN %s WHEN %%2$s = 0 THEN %s "
					"ELSE %s + %s + %%1$s::double precision * %%2$s::double precision "
					"* (%s / %%1$s - %s / %%2$s) * (%s / %%1$s - %s / %%2$s) "
					"/ (%%1$s + %%2$s)::double precision END",
					new, stored, stored, new, sumA1, sumA2, sumB1, sumB2);
}


static void
SetPart(CVAggregate *aggregate, const char *suffix, const char *typeName, char *batchExpr,
		const char *mergeTemplate, const char *combineTemplate)
{
	CVStatePart *part;

	Assert(aggregate->nparts < CV_MAX_PARTS);
	part = &aggregate->parts[aggregate->nparts++];
	part->suffix = suffix;
	part->typeName = pstrdup(typeName);
	part->batchExpr = batchExpr;
	part->mergeTemplate = pstrdup(mergeTemplate);
	part->combineTemplate = pstrdup(combineTemplate);
}


/* " FILTER (WHERE ...)" for the aggregate's FILTER and an extra condition */
static char *
FilterClause(const char *filterColumn, const char *extraCondition)
{
	if (filterColumn == NULL && extraCondition == NULL)
		return "";
	if (filterColumn == NULL)
		return psprintf(" FILTER (WHERE %s)", extraCondition);
	if (extraCondition == NULL)
		return psprintf(" FILTER (WHERE %s)", filterColumn);
	return psprintf(" FILTER (WHERE %s AND %s)", filterColumn, extraCondition);
}


/* The quoted schema of an extension a rule needs, or an error naming it */
static const char *
ExtensionSchema(ContinuousViewDefinition *definition, const char *extensionName,
				const char *aggregateName)
{
	Oid			extensionId = get_extension_oid(extensionName, true);
	char	   *schema;

	if (!OidIsValid(extensionId))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a continuous view keeps %s with the %s extension, which is not "
						"installed in this database", aggregateName, extensionName),
				 errhint("Run CREATE EXTENSION %s; (Debian package postgresql-15-%s).",
						 extensionName, extensionName)));

	schema = (char *) quote_identifier(get_namespace_name(ExtensionNamespace(extensionId)));
	if (strcmp(extensionName, "hll") == 0)
		definition->hllSchema = schema;
	else
		definition->tdigestSchema = schema;
	return schema;
}


/*
 * Distinct counts are exact when asked, and when hll is not installed and
 * nothing was asked; otherwise HyperLogLog sketches.
 */
static bool
UseExactDistinct(ContinuousViewDefinition *definition)
{
	if (definition->distinctMode != NULL)
		return strcmp(definition->distinctMode, "exact") == 0;
	return !OidIsValid(get_extension_oid("hll", true));
}


/* The schema an extension was installed in */
static Oid
ExtensionNamespace(Oid extensionId)
{
	Relation	extensions = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			namespaceId = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extensionId));
	scan = systable_beginscan(extensions, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		namespaceId = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(extensions, AccessShareLock);
	return namespaceId;
}


/* A type's SQL name with its modifier and, when not the default, collation */
char *
SqlTypeName(Oid typeId, int32 typmod, Oid collationId)
{
	char	   *name = format_type_extended(typeId, typmod,
											FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);

	if (OidIsValid(collationId) && collationId != get_typcollation(typeId) &&
		collationId != DEFAULT_COLLATION_OID)
		return psprintf("%s COLLATE %s", name, generate_collation_name(collationId));
	return name;
}


/*
 * The hll hash value of an argument, from the extended hash function of
 * its type's default hash operator class: equal values hash alike, which a
 * distinct count needs (1.0 and 1.00 are one numeric value but not one
 * byte string).  NULL when the type has none.
 */
static char *
ExtendedHashCall(Oid typeId, const char *argument, const char *hll)
{
	Oid			opclass = GetDefaultOpClass(typeId, HASH_AM_OID);
	Oid			family;
	Oid			inputType;
	Oid			functionId;
	Oid		   *argumentTypes;
	int			nargs;
	const char *castTo = "";

	/*
	 * numeric's hash function leaves out the sign (-3 and 3 collide, which
	 * a hash table can afford and a sketch cannot): hash the shortest text
	 * instead, equal exactly for equal values.
	 */
	if (typeId == NUMERICOID)
		return psprintf("%s.hll_hash_text(pg_catalog.trim_scale(%s)::text)", hll, argument);

	if (!OidIsValid(opclass))
		return NULL;
	family = get_opclass_family(opclass);
	inputType = get_opclass_input_type(opclass);
	functionId = get_opfamily_proc(family, inputType, inputType, HASHEXTENDED_PROC);
	if (!OidIsValid(functionId))
		return NULL;

	/*
	 * varchar hashes as text, keeping its collation through the cast; a
	 * type that shares an unrelated type's function (boolean hashes as
	 * "char") is one whose values are equal exactly when their bytes are.
	 */
	(void) get_func_signature(functionId, &argumentTypes, &nargs);
	if (nargs >= 1 && argumentTypes[0] != typeId && !IsPolymorphicType(argumentTypes[0]))
	{
		if (!IsBinaryCoercible(typeId, argumentTypes[0]))
			return psprintf("%s.hll_hash_any(%s)", hll, argument);
		castTo = psprintf("::%s", format_type_extended(argumentTypes[0], -1,
													   FORMAT_TYPE_FORCE_QUALIFY));
	}

	return psprintf("%s.hll_hash_bigint(%s.%s(%s%s, 0))", hll,
					quote_identifier(get_namespace_name(get_func_namespace(functionId))),
					quote_identifier(get_func_name(functionId)), argument, castTo);
}


/* The constant fraction(s) of an ordered-set aggregate, as SQL */
static char *
DirectArgumentText(Aggref *aggref)
{
	Node	   *fraction;

	if (list_length(aggref->aggdirectargs) != 1)
		RefuseAggregate(aggref, NULL, NULL);

	fraction = (Node *) linitial(aggref->aggdirectargs);
	if (contain_var_clause(fraction) || contain_volatile_functions(fraction))
		RefuseAggregate(aggref, "The fraction of a percentile must be a constant.",
						"Write the fraction as a number, such as 0.95, or an array of them.");

	return deparse_expression(fraction, NIL, false, false);
}


/* The argument columns, each cast to the aggregate's declared argument type */
static char *
ArgumentsAsDeclared(CVRuleInput *input)
{
	StringInfoData arguments;
	ListCell   *columnCell;
	ListCell   *typeCell;

	initStringInfo(&arguments);
	forboth(columnCell, input->argumentColumns, typeCell, input->aggref->aggargtypes)
	{
		if (arguments.len > 0)
			appendStringInfoString(&arguments, ", ");
		appendStringInfo(&arguments, "%s::%s", (char *) lfirst(columnCell),
						 format_type_extended(lfirst_oid(typeCell), -1,
											  FORMAT_TYPE_FORCE_QUALIFY));
	}
	return arguments.data;
}


static void
RefuseAggregate(Aggref *aggref, const char *detail, const char *hint)
{
	char	   *signature = format_procedure(aggref->aggfnoid);

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a continuous view cannot keep the aggregate %s%s", signature,
					aggref->aggdistinct != NIL ? " with DISTINCT" : ""),
			 detail ? errdetail_internal("%s", detail) :
			 errdetail("Supported aggregates: %s.", SupportedAggregatesText()),
			 hint ? errhint("%s", hint) :
			 errhint("Compute it from supported aggregates, or aggregate the source "
					 "directly in a query.")));
}
