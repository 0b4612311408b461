/*-------------------------------------------------------------------------
 *
 * worker_xact.h
 *	  How every transaction of a per-database worker begins and ends.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_WORKER_XACT_H
#define INCREMENTAL_WORKER_XACT_H

extern bool BeginWorkerTransaction(void);
extern void CommitWorkerTransaction(void);

#endif							/* INCREMENTAL_WORKER_XACT_H */
