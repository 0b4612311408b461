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

extern void WaitForSourceWriters(Oid relationId);
extern void CheckWaitIsMeaningful(const char *pipelineName);

#endif							/* INCREMENTAL_SOURCE_WRITERS_H */
