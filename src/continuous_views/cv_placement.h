/*-------------------------------------------------------------------------
 *
 * cv_placement.h
 *	  Where a continuous view's storage lives when its source is a Citus
 *	  table, and whether its batches run on the shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_PLACEMENT_H
#define INCREMENTAL_CV_PLACEMENT_H

#include "continuous_views/cv_definition.h"
#include "continuous_views/cv_maintenance.h"

typedef struct CVPlacement
{
	bool		distributedSource;	/* false: nothing here concerns Citus */
	CVGroupKey *distributionKey;	/* the storage's distribution column, or
									 * NULL: the storage is a coordinator table */
	char	   *coordinatorReason;	/* why it is, for the NOTICE */
	char	   *coordinatorHint;	/* and what would distribute it, or NULL */
} CVPlacement;

extern void PlanStoragePlacement(ContinuousViewDefinition *definition,
								 CVMaintenance *maintenance, CVPlacement *placement);
extern void PlaceStorage(CVPlacement *placement, Oid storageId, Oid sourceId);
extern void ReportBatchPlacement(CVPlacement *placement, const char *viewName,
								 ContinuousViewDefinition *definition, const char *storageName);
extern void ExecuteViewDefinition(const char *command);

#endif							/* INCREMENTAL_CV_PLACEMENT_H */
