/*-------------------------------------------------------------------------
 *
 * sequence.h
 *	  What sequence pipelines check at creation and at every run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_SEQUENCE_H
#define INCREMENTAL_SEQUENCE_H

/*
 * Raises an error for a sequence whose values could appear out of order
 * or twice, or that the owner may not read; returns the value just below
 * the first one the sequence can produce (where progress starts).
 */
extern int64 CheckSequenceUsable(Oid sequenceId, Oid ownerId);

/* The relation's schema-qualified, quoted name, for hints that give SQL */
extern char *QualifiedRelationName(Oid relationId);

#endif							/* INCREMENTAL_SEQUENCE_H */
