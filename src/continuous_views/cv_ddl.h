/*-------------------------------------------------------------------------
 *
 * cv_ddl.h
 *	  The hook that turns CREATE VIEW ... WITH (incremental.continuous)
 *	  into a continuous view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CV_DDL_H
#define INCREMENTAL_CV_DDL_H

extern void InstallContinuousViewHooks(void);

#endif							/* INCREMENTAL_CV_DDL_H */
