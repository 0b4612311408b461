/*-------------------------------------------------------------------------
 *
 * continuous_view_catalog.h
 *	  incremental.continuous_view_definitions: which views are continuous
 *	  views, and the storage table and pipeline that keep each one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CONTINUOUS_VIEW_CATALOG_H
#define INCREMENTAL_CONTINUOUS_VIEW_CATALOG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* A row of incremental.continuous_view_definitions */
typedef struct ContinuousViewRecord
{
	Oid			viewId;
	const char *pipelineName;
	Oid			sourceRelationId;
	Oid			storageRelationId;
	const char *query;			/* the view's query, as deparsed */
	bool		realtime;
	const char *distinctMode;	/* NULL: the view counts nothing distinct */
	List	   *distinctTableIds;	/* the side tables of exact distinct counts */
	Interval   *ttl;			/* NULL: groups never expire */
	const char *ttlColumn;		/* the storage's time key, or NULL */
	const char *maintenancePipelineName;	/* expiry and partitions, or NULL */
	Interval   *slidingWindow;	/* NULL: none */
	const char *windowColumn;	/* the storage's window step key */
	const char *slidingColumn;	/* the source's column of the window option */
	const char *partitionColumn;	/* NULL: the storage is not partitioned */
	Interval   *partitionDuration;
	List	   *readTableIds;	/* the relations the view's query reads */
	Oid			deltaTableId;	/* where batches also append their states for
								 * roll-ups, or InvalidOid */
} ContinuousViewRecord;

extern void InsertContinuousView(const ContinuousViewRecord *record);
extern bool ReadContinuousViewTtlColumn(Oid viewId, char **ttlColumn);
extern Oid	ContinuousViewOfPipeline(const char *pipelineName);
extern Oid	ContinuousViewUsingRelation(Oid relationId);
extern bool ReadContinuousViewTables(Oid viewId, char **pipelineName, List **tableIds);
extern void UpdateContinuousViewTtl(Oid viewId, Interval *ttl);

/* A view's row, but for its dependency lists; false for another view */
extern bool ReadContinuousView(Oid viewId, ContinuousViewRecord *record);
extern void UpdateContinuousViewQuery(Oid viewId, const char *query,
									  const char *distinctMode);
extern void SetContinuousViewDeltaTable(Oid viewId, Oid deltaTableId);
extern Oid	ContinuousViewWithDeltaTable(Oid deltaTableId);
extern bool ContinuousViewReadsSource(Oid sourceId);

/*
 * A row of incremental.continuous_view_backfills: aggregates added to a
 * view, merged into its existing groups from the source rows that were
 * processed before they were added (ids up to backfillThrough).
 */
typedef struct ContinuousViewBackfill
{
	int64		backfillId;
	List	   *columns;		/* the view's new columns, names */
	const char *command;		/* merges the new aggregates of $1 .. $2 */
	int64		backfillThrough;
	int64		backfilledThrough;
	int64		validFrom;		/* the first source id still there */
	bool		oneTransaction; /* the source has retention: all at once */
} ContinuousViewBackfill;

extern void InsertContinuousViewBackfill(Oid viewId, const ContinuousViewBackfill *backfill);
extern bool ReadPendingBackfill(Oid viewId, ContinuousViewBackfill *backfill);
extern void UpdateBackfillProgress(int64 backfillId, int64 backfilledThrough);
extern void DeleteContinuousViewBackfills(Oid viewId);

#endif							/* INCREMENTAL_CONTINUOUS_VIEW_CATALOG_H */
