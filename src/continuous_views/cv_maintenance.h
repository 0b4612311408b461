/*-------------------------------------------------------------------------
 *
 * cv_maintenance.h
 *	  What keeps a continuous view's storage in shape besides its batches:
 *	  the expiry of groups (TTL, a sliding window's old steps) and the
 *	  partitions of partitioned storage, done by one time interval
 *	  pipeline, <view's pipeline>:maintenance.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_MAINTENANCE_H
#define INCREMENTAL_CV_MAINTENANCE_H

#include "continuous_views/cv_definition.h"

typedef struct CVMaintenance
{
	CVGroupKey *ttlKey;			/* the time key a TTL applies to, or NULL */
	char	   *ttlSource;		/* SQL for the view's current TTL */
	CVGroupKey *windowKey;		/* a sliding window's step key, or NULL */
	CVGroupKey *partitionKey;	/* the storage's range partition key, or NULL */
	char	   *pipelineName;	/* NULL: the view needs no maintenance */
} CVMaintenance;

/*
 * Checks the TTL, sliding window and partition options against the
 * analyzed query and decides which keys they apply to.
 */
extern void PlanMaintenance(ContinuousViewDefinition *definition,
							ContinuousViewOptions *options, const char *pipelineName,
							CVMaintenance *maintenance);

/* Raises an error for a TTL that is not longer than zero */
extern void CheckTtl(Interval *ttl);

/* Creates the maintenance pipeline of the view kept by viewPipelineName */
extern void CreateMaintenancePipeline(const char *maintenancePipelineName,
									  const char *viewPipelineName);

#endif							/* INCREMENTAL_CV_MAINTENANCE_H */
