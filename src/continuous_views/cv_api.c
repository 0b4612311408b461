/*-------------------------------------------------------------------------
 *
 * cv_api.c
 *	  SQL functions that change a continuous view after its creation and
 *	  need more than the pipeline functions: rebuild_continuous_view() and
 *	  set_ttl().
 *
 * Pausing, resuming and truncating are SQL functions over the pipeline
 * functions (sql/pg_incremental--2.1--2.2.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog/catalog_version.h"
#include "catalog/continuous_view_catalog.h"
#include "common/relation_name.h"
#include "continuous_views/cv_maintenance.h"
#include "continuous_views/cv_rollup.h"
#include "pipelines/pipeline_access.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_rebuild_continuous_view);
PG_FUNCTION_INFO_V1(incremental_set_ttl);

static void CheckRelationExists(Oid relationId);
static void RefuseRebuildWithRollups(Oid viewId);


/*
 * A roll-up cannot be rebuilt from its source, the deltas, which are gone
 * once processed; the view it reads cannot be processed again, since its
 * batches would append the same deltas again, counted twice.
 */
static void
RefuseRebuildWithRollups(Oid viewId)
{
	ContinuousViewRecord record;

	if (!ReadContinuousView(viewId, &record))
		return;
	if (IsRollup(&record))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("continuous view %s is a roll-up, which cannot be rebuilt",
						QualifiedRelationName(viewId)),
				 errdetail("Its source, the deltas of the view it reads, keeps no rows it has "
						   "processed."),
				 errhint("Drop it and create it again: it starts from the state of the view "
						 "it reads.")));
	if (OidIsValid(record.deltaTableId))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("continuous view %s cannot be rebuilt while roll-ups read it",
						QualifiedRelationName(viewId)),
				 errdetail("Its batches would hand the roll-ups every row again."),
				 errhint("Drop its roll-ups, rebuild it, and create them again.")));
}


/*
 * incremental.rebuild_continuous_view(view): forgets the pipeline's
 * progress and empties the storage (and side tables) in one transaction,
 * holding the pipeline's lock, so that no batch runs in between; the
 * pipeline then processes the whole source again, in committed batches.
 * TRUNCATE needs its privilege on the tables, as for the caller's own
 * TRUNCATE.
 */
Datum
incremental_rebuild_continuous_view(PG_FUNCTION_ARGS)
{
	Oid			viewId;
	char	   *pipelineName;
	List	   *tableIds;
	Pipeline   *pipeline;
	StringInfoData truncate;
	ListCell   *cell;

	CheckInstalledVersion();
	CheckArgumentNotNull(fcinfo, 0, "view");
	viewId = PG_GETARG_OID(0);
	CheckRelationExists(viewId);

	if (!ReadContinuousViewTables(viewId, &pipelineName, &tableIds))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a continuous view", QualifiedRelationName(viewId)),
				 errhint("incremental.continuous_views lists the continuous views.")));

	pipeline = LockAndReadPipeline(pipelineName, PIPELINE_ACTION_RESET);
	RefuseRebuildWithRollups(viewId);
	ResetPipelineProgress(pipeline);
	DeleteContinuousViewBackfills(viewId);	/* the batches keep every column */

	initStringInfo(&truncate);
	appendStringInfoString(&truncate, "TRUNCATE ");
	foreach(cell, tableIds)
		appendStringInfo(&truncate, "%s%s", foreach_current_index(cell) > 0 ? ", " : "",
						 QualifiedRelationName(lfirst_oid(cell)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(truncate.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not empty the storage of continuous view %u", viewId);
	SPI_finish();

	PG_RETURN_VOID();
}


/*
 * incremental.set_ttl(view, ttl): from now on the view hides, and its
 * expiry pipeline deletes, the groups whose time key is older than ttl;
 * NULL keeps them all.  For the view's owner.
 */
Datum
incremental_set_ttl(PG_FUNCTION_ARGS)
{
	Oid			viewId;
	Interval   *ttl = PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1);
	char	   *ttlColumn;

	CheckInstalledVersion();
	CheckArgumentNotNull(fcinfo, 0, "view");
	viewId = PG_GETARG_OID(0);
	CheckRelationExists(viewId);

	if (!ReadContinuousViewTtlColumn(viewId, &ttlColumn))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a continuous view", QualifiedRelationName(viewId)),
				 errhint("incremental.continuous_views lists the continuous views.")));
	if (!pg_class_ownercheck(viewId, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_VIEW, get_rel_name(viewId));
	if (ttlColumn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view %s was created without a ttl", QualifiedRelationName(viewId)),
				 errdetail("A view's expiry is set up when it is created."),
				 errhint("Create the view again with ttl (and ttl_column), then change it here.")));
	if (ttl != NULL)
		CheckTtl(ttl);

	UpdateContinuousViewTtl(viewId, ttl);
	PG_RETURN_VOID();
}


/* regclass accepts any number: 0 or a dropped view's OID is not a view */
static void
CheckRelationExists(Oid relationId)
{
	if (get_rel_relkind(relationId) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relationId)));
}
