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

#include "datatype/timestamp.h"

/*
 * A transaction's now() is read a moment before the transaction shows in
 * the backends' status, where the wait looks for it.  A time interval
 * pipeline with a source processes an interval no earlier than this long
 * after its end, whatever its min_delay, so that every transaction that
 * began before the end is seen: a writer would have to stall for this long
 * between taking its start time and announcing its transaction.
 */
#define TRANSACTION_START_MARGIN_MS 1000

/*
 * Waits for the transactions that may still add rows to the source: those
 * holding a lock on it that can write, those holding a lock on the
 * sequence whose values they may insert (unless sequenceId is InvalidOid)
 * and, unless startedBefore is DT_NOBEGIN, every transaction of the
 * database that began before then.  With maxWaitMs >= 0 for at most that
 * long, returning false if some are still running then.
 */
extern bool WaitForSourceWriters(Oid relationId, Oid sequenceId, TimestampTz startedBefore,
								 int maxWaitMs);
extern void CheckWaitIsMeaningful(const char *pipelineName);

#endif							/* INCREMENTAL_SOURCE_WRITERS_H */
