/*-------------------------------------------------------------------------
 *
 * source_writers.h
 *	  Waiting until no transaction can still add rows to a range that a
 *	  pipeline is about to process.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SOURCE_WRITERS_H
#define INCREMENTAL_SOURCE_WRITERS_H

/*
 * Waits for the writers of the source; with maxWaitMs >= 0 for at most
 * that long, returning false if some are still running then.
 */
extern bool WaitForSourceWriters(Oid relationId, int maxWaitMs);
extern void CheckWaitIsMeaningful(const char *pipelineName);

#endif							/* INCREMENTAL_SOURCE_WRITERS_H */
