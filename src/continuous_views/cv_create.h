/*-------------------------------------------------------------------------
 *
 * cv_create.h
 *	  Creating continuous views, from the SQL function and from CREATE VIEW
 *	  ... WITH (incremental.continuous).
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_CREATE_H
#define INCREMENTAL_CV_CREATE_H

#include "nodes/primnodes.h"

#include "continuous_views/cv_definition.h"
#include "continuous_views/cv_maintenance.h"

/* Rows per batch when the view does not say: bounded, committed batches */
#define CV_DEFAULT_MAX_BATCH_SIZE 100000

extern Query *AnalyzeViewQueryText(const char *queryText);

/*
 * Creates the continuous view 'viewName' of an analyzed SELECT, with its
 * storage and pipeline; columnNames (String nodes) rename its columns.
 * Returns the view's OID.
 */
extern Oid	CreateContinuousView(RangeVar *viewName, List *columnNames, Query *query,
								 const char *queryText, ContinuousViewOptions *options);

/*
 * The SELECT of the view over its storage; columnNames (String nodes)
 * rename its columns
 */
/* Runs a generated utility statement; the caller is connected to SPI */
extern void ExecuteGenerated(const char *command);

extern char *ContinuousViewQuery(ContinuousViewDefinition *definition, const char *storage,
								 const char *pipelineName, bool realtime, List *columnNames,
								 CVMaintenance *maintenance);

#endif							/* INCREMENTAL_CV_CREATE_H */
