/*-------------------------------------------------------------------------
 *
 * citus_nodes.h
 *	  What pg_incremental needs to know about Citus' nodes: which node
 *	  groups can write to a source, where each group's sequence stands, and
 *	  waiting for the writers on other nodes.
 *
 * Every Citus-specific question is asked here or in citus_tables.h (how
 * Citus holds a table) and nowhere else; the pipeline kinds call these
 * functions and know nothing of Citus' catalog.
 * Nothing here links against Citus: its metadata is read through SQL, and
 * other nodes are reached over connections the session keeps
 * (node_connections.h), made as Citus makes its own, or, where those
 * cannot be made, through Citus' master_run_on_worker(), which opens new
 * ones; either way outside the caller's transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CITUS_NODES_H
#define INCREMENTAL_CITUS_NODES_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* Where one node group's copy of a source's sequence stands */
typedef struct NodeSequence
{
	int32		groupId;
	char	   *nodeName;
	int32		nodePort;
	bool		reachable;		/* false: the node did not answer */
	char	   *error;			/* ...and what it said */
	bool		hasValue;		/* false: no value drawn there yet */
	int64		lastValue;
	int64		minValue;		/* the first value the group can draw */
	int64		maxValue;		/* the last one */
	bool		writersDone;	/* its writers, waited for after the read, are
								 * done (when asked to wait) */
} NodeSequence;

extern bool CitusIsPresent(void);
extern bool SequenceIsOnOtherNodes(Oid sequenceId);
extern bool IsCitusWorkerNode(void);
extern void RefuseOnCitusWorkerNode(const char *action);
extern List *ReadOtherNodes(void);
extern List *ReadOtherNodeSequences(Oid sequenceId, Oid waitRelationId, int maxWaitMs);
extern bool WaitForWritersOnOtherNodes(List *nodeSequences, Oid relationId,
									   Oid sequenceId, TimestampTz startedBefore,
									   int maxWaitMs);

#endif							/* INCREMENTAL_CITUS_NODES_H */
