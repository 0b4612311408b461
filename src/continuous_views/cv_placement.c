/*-------------------------------------------------------------------------
 *
 * cv_placement.c
 *	  Where a continuous view's storage lives when its source is a Citus
 *	  table, and whether its batches run on the shards.
 *
 * A batch groups the new source rows by the view's keys and merges them
 * into the storage on conflict.  When the keys include the source's
 * distribution column, every group's rows live on one shard, so the
 * storage can be distributed on that key column, co-located with the
 * source: each shard's batch then merges into the storage shard beside
 * it, on its worker, and no row goes through the coordinator.  Otherwise
 * a group's rows are spread over shards and the storage is a table on the
 * coordinator, into which Citus pulls each batch's partial aggregates.
 *
 * Either way the view stays exact: the pipeline takes one range per node
 * group (sequence_node_groups.c) and runs the batch once for each, in one
 * transaction, which Citus commits on all nodes together.
 *
 * The storage stays on the coordinator, too, for what a distributed table
 * cannot hold here: the side tables of exact distinct counts, read in the
 * same statement as the storage, and storage partitioned by time, whose
 * partitions the maintenance pipeline creates, fills and drops.  A ttl or
 * a sliding window works on distributed storage: the maintenance deletes
 * the expired groups there without its batches by ctid, which Citus
 * cannot plan (_maintain_continuous_view, _is_distributed_table).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/primnodes.h"
#include "utils/lsyscache.h"

#include "continuous_views/cv_create.h"
#include "continuous_views/cv_placement.h"
#include "continuous_views/cv_sql.h"
#include "distributed/citus_tables.h"

static CVGroupKey *DistributionKey(ContinuousViewDefinition *definition,
								   AttrNumber distributionColumn);


/*
 * PlanStoragePlacement decides, before anything is created, whether the
 * storage of a view over the definition's source is distributed.
 */
void
PlanStoragePlacement(ContinuousViewDefinition *definition, CVMaintenance *maintenance,
					 CVPlacement *placement)
{
	AttrNumber	distributionColumn;
	CitusTableKind kind = CitusTableKindOf(definition->sourceRelationId, &distributionColumn);

	memset(placement, 0, sizeof(CVPlacement));
	if (kind == CITUS_TABLE_NONE)
		return;
	placement->distributedSource = true;

	if (kind == CITUS_TABLE_REFERENCE)
		placement->coordinatorReason =
			"The source is a reference table; its storage is a table on the coordinator.";
	else if (kind != CITUS_TABLE_HASH)
		placement->coordinatorReason =
			"The source is not hash-distributed; its storage is a table on the coordinator.";
	else if ((placement->distributionKey =
			  DistributionKey(definition, distributionColumn)) == NULL)
	{
		placement->coordinatorReason =
			psprintf("Its GROUP BY does not contain the source's distribution column \"%s\"; "
					 "its storage is a table on the coordinator.",
					 get_attname(definition->sourceRelationId, distributionColumn, false));
		placement->coordinatorHint =
			"Group by the distribution column as well, to keep the storage beside the "
			"source's shards.";
	}
	else if (definition->hasExactDistinct)
	{
		placement->coordinatorReason =
			"Its exact distinct counts keep the values seen in tables on the coordinator, "
			"beside its storage.";
		placement->coordinatorHint =
			"With distinct => 'hll', approximate distinct counts are kept in the storage "
			"itself, which can then be distributed.";
	}
	else if (maintenance->partitionKey != NULL)
		placement->coordinatorReason =
			"Its storage is partitioned by time, on the coordinator, where its maintenance "
			"pipeline creates and drops the partitions.";

	if (placement->coordinatorReason != NULL)
		placement->distributionKey = NULL;
}


/* The group key that is the source's distribution column itself, or NULL */
static CVGroupKey *
DistributionKey(ContinuousViewDefinition *definition, AttrNumber distributionColumn)
{
	ListCell   *cell;

	foreach(cell, definition->groupKeys)
	{
		CVGroupKey *key = lfirst(cell);
		Var		   *var = (Var *) key->expr;

		if (IsA(var, Var) && var->varno == definition->sourceRangeIndex &&
			var->varlevelsup == 0 && var->varattno == distributionColumn &&
			!key->isWindowStep)
			return key;
	}
	return NULL;
}


/* PlaceStorage distributes the new, empty storage as planned */
void
PlaceStorage(CVPlacement *placement, Oid storageId, Oid sourceId)
{
	if (placement->distributionKey != NULL)
		DistributeColocated(storageId, placement->distributionKey->columnName, sourceId);
}


/*
 * ReportBatchPlacement tells, at creation, when the view's batches do not
 * run on the shards, and why: from the plan Citus makes for a batch when
 * the storage is distributed, since Citus alone decides.
 */
void
ReportBatchPlacement(CVPlacement *placement, const char *viewName,
					 ContinuousViewDefinition *definition, const char *storageName)
{
	char	   *reason = placement->coordinatorReason;

	if (!placement->distributedSource)
		return;
	if (placement->distributionKey != NULL)
	{
		reason = WhyNotPushedDown(BatchCommandOverRange(definition, storageName, NULL, 1, 1));
		if (reason == NULL)
			return;
	}

	ereport(NOTICE,
			(errmsg("the batches of continuous view \"%s\" are not pushed down to the shards",
					viewName),
			 errdetail("%s Each batch's partial aggregates go through the coordinator.",
					   reason),
			 placement->coordinatorHint != NULL ?
			 errhint("%s", placement->coordinatorHint) : 0));
}


/*
 * ExecuteViewDefinition runs the CREATE [OR REPLACE] VIEW of a continuous
 * view, connected to SPI.  The view stays on the coordinator, as the
 * pipelines do, whatever its storage.
 */
void
ExecuteViewDefinition(const char *command)
{
	int			nestLevel = BeginLocalDDL();

	ExecuteGenerated(command);
	EndLocalDDL(nestLevel);
}
