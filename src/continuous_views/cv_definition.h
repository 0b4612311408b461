/*-------------------------------------------------------------------------
 *
 * cv_definition.h
 *	  What the analysis of a continuous view's query finds, and what the
 *	  SQL generators build from it.
 *
 * A continuous view keeps, for each group of its query, a row of typed
 * state columns in a storage table.  Each aggregate of the query has one
 * or more state parts (avg: a sum and a count); a batch computes the parts
 * over its rows and merges them into the stored row; the view computes
 * the aggregate's value from the parts.  The parts are described by the
 * aggregate rule table (cv_rules.c) as SQL templates, so that everything
 * generated is plain SQL over ordinary columns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_DEFINITION_H
#define INCREMENTAL_CV_DEFINITION_H

#include "datatype/timestamp.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* The most state parts one aggregate needs (regression: six moments) */
#define CV_MAX_PARTS 6

/*
 * One state column of an aggregate.  The templates take positional
 * arguments (psprintf's %1$s):
 *	batch:	 %1$s .. the aggregate's argument columns of the batch, then
 *			 the FILTER clause (" FILTER (WHERE ...)" or "")
 *	merge:	 %1$s the stored value, %2$s the batch's value
 *	combine: %1$s the column, in an aggregate over many stored rows
 */
typedef struct CVStatePart
{
	const char *suffix;			/* column name: <aggregate name>_<suffix> */
	char	   *columnName;
	char	   *typeName;		/* SQL type of the column */
	char	   *batchExpr;		/* complete aggregate expression of a batch */
	char	   *mergeTemplate;
	char	   *combineTemplate;
} CVStatePart;

/* What an aggregate of the query is kept as */
typedef struct CVAggregate
{
	Aggref	   *aggref;			/* as analyzed (for matching duplicates) */
	char	   *name;			/* base of its column names */
	const char *ruleName;		/* the rule that keeps it, for messages */
	int			nparts;
	CVStatePart parts[CV_MAX_PARTS];

	/*
	 * The value, over the parts: %1$s .. the part columns, qualified.  The
	 * result is cast to the aggregate's type by the generator.
	 */
	char	   *finalTemplate;
	char	   *resultType;
	char	   *finalName;		/* of its value's column, among the keys' */

	/*
	 * An exact distinct count keeps the values seen, per group, in a side
	 * table; a batch counts those it adds.  Its one part is the count.
	 */
	bool		exactDistinct;
	char	   *distinctColumn; /* batch column of the value, quoted */
	char	   *filterColumn;	/* batch column of FILTER, quoted, or NULL */
	char	   *distinctTypeName;
	char	   *sideTableName;	/* set at creation */
	char	   *sideTable;		/* the same, qualified and quoted */
} CVAggregate;

/* A GROUP BY key: a key column of the storage table */
typedef struct CVGroupKey
{
	Expr	   *expr;
	char	   *columnName;
	char	   *typeName;
	char	   *collation;		/* quoted COLLATE name, or NULL */
	bool		isWindowStep;	/* a sliding window's step, not shown */
} CVGroupKey;

/* A batch input column: an aggregate argument or FILTER condition */
typedef struct CVBatchColumn
{
	Expr	   *expr;
	char	   *name;			/* "$a1", ... */
} CVBatchColumn;

typedef struct ContinuousViewDefinition
{
	Query	   *query;			/* the user's query, as analyzed */
	Oid			sourceRelationId;
	int			sourceRangeIndex;	/* in query->rtable */
	AttrNumber	idColumn;		/* the column that owns the sequence */
	Oid			sequenceId;

	List	   *groupKeys;		/* CVGroupKey, in GROUP BY order */
	List	   *aggregates;		/* CVAggregate, distinct Aggrefs */
	List	   *batchColumns;	/* CVBatchColumn */

	/* extensions the rules need, for schema-qualified calls */
	char	   *hllSchema;		/* NULL when not needed */
	char	   *tdigestSchema;

	/* how distinct counts are kept: "hll", "exact", or NULL for the default */
	const char *distinctMode;
	bool		hasExactDistinct;

	/*
	 * A sliding window: the storage keeps a group per step (one more key,
	 * the step's start), and the view combines the steps that start
	 * within the window.  NULL window: none.
	 */
	Interval   *slidingWindow;
	Interval   *slidingStep;
	int			viewKeyCount;	/* group keys shown: all but the step */
} ContinuousViewDefinition;

/* Options of a continuous view, from the function or the WITH clause */
typedef struct ContinuousViewOptions
{
	char	   *schedule;		/* NULL: the default */
	int64		maxBatchSize;	/* 0: the default */
	bool		realtime;
	char	   *distinctMode;	/* "hll", "exact", or NULL for the default */
	Interval   *ttl;			/* NULL: groups never expire */
	char	   *ttlColumn;		/* NULL: the only time key, when ttl is set */
	Interval   *slidingWindow;	/* NULL: from the query's WHERE, or none */
	char	   *slidingColumn;	/* the source's time column of the window */
	char	   *partitionBy;	/* NULL: the only time key, with a duration */
	Interval   *partitionDuration;	/* NULL: the storage is not partitioned */
} ContinuousViewOptions;

#endif							/* INCREMENTAL_CV_DEFINITION_H */
