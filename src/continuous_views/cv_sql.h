/*-------------------------------------------------------------------------
 *
 * cv_sql.h
 *	  The SQL generated for a continuous view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_SQL_H
#define INCREMENTAL_CV_SQL_H

#include "continuous_views/cv_definition.h"

/* Fills the placeholders %1$s .. %N$s of a rule's template */
extern char *FillTemplate(const char *template, char **args, int nargs);

/*
 * CREATE TABLE for the storage, named by its quoted, qualified name;
 * partitioned by range of partitionKey unless NULL
 */
extern char *StorageTableCommand(ContinuousViewDefinition *definition,
								 const char *storageName, CVGroupKey *partitionKey);

/* CREATE TABLE for the values an exact distinct count has seen */
extern char *SideTableCommand(ContinuousViewDefinition *definition, CVAggregate *aggregate);

/*
 * The pipeline's command: merges the batch $1 .. $2 into the storage and,
 * unless deltaTable is NULL, appends the batch's states to that table too,
 * for the roll-ups that read the view
 */
extern char *BatchCommand(ContinuousViewDefinition *definition, const char *storageName,
						  const char *deltaTable);

/* The same over the ids from .. to, as literals, for EXPLAIN */
extern char *BatchCommandOverRange(ContinuousViewDefinition *definition,
								   const char *storageName, const char *deltaTable,
								   int64 from, int64 to);

/* A SELECT of the states of the aggregates (CVAggregate) over no rows */
extern char *EmptyStatesQuery(ContinuousViewDefinition *definition, List *aggregates);

/* The storage's column names, keys first, as a list */
extern char *StateColumnList(ContinuousViewDefinition *definition);

/* The column definitions of a delta table, for create_stream */
extern char *DeltaTableColumns(ContinuousViewDefinition *definition);

/*
 * The view's query over the storage.  With a watermark (an SQL expression
 * for the pipeline's progress) the view also aggregates the source's rows
 * above it, up to watermarkEnd when that expression is not NULL.  columnNames (String nodes) rename the view's columns.  With a
 * ttlColumn, groups whose time key is older than now() minus the interval
 * ttlSource (an SQL expression, NULL: none expire) are hidden.
 */
extern char *ViewQuery(ContinuousViewDefinition *definition, const char *storageName,
					   const char *watermark, const char *watermarkEnd, List *columnNames,
					   const char *ttlColumn, const char *ttlSource);

/* An interval as a typed SQL literal */
extern char *IntervalLiteral(Interval *interval);

/* A query's text, with every name schema-qualified */
extern char *QueryText(Query *query);

#endif							/* INCREMENTAL_CV_SQL_H */
