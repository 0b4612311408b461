/*-------------------------------------------------------------------------
 *
 * cv_add_column.h
 *	  Aggregates added to a continuous view, and their backfill.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_ADD_COLUMN_H
#define INCREMENTAL_CV_ADD_COLUMN_H

/*
 * Raises an error while the view's added aggregates are not backfilled
 * yet; detail (or NULL) says why that matters to the caller's action
 */
extern void RefuseWhileBackfilling(Oid viewId, const char *detail);

#endif							/* INCREMENTAL_CV_ADD_COLUMN_H */
