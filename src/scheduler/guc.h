/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The extension's settings (incremental.*).
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_GUC_H
#define INCREMENTAL_GUC_H

extern void DefineIncrementalSettings(void);

#endif							/* INCREMENTAL_GUC_H */
