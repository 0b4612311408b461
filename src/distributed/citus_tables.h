/*-------------------------------------------------------------------------
 *
 * citus_tables.h
 *	  How Citus holds a table (and so whether a source is distributed),
 *	  distributing a new table like another, and whether Citus pushes a
 *	  statement down to the shards.
 *
 * With citus_nodes.h, the only place that knows Citus' catalog: the
 * pipeline kinds ask here whether a source is distributed, the continuous
 * views where their storage can live.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CITUS_TABLES_H
#define INCREMENTAL_CITUS_TABLES_H

/* How Citus holds a table */
typedef enum CitusTableKind
{
	CITUS_TABLE_NONE,			/* unknown to Citus: a table of this node */
	CITUS_TABLE_HASH,			/* hash-distributed on a column */
	CITUS_TABLE_REFERENCE,		/* a copy on every node */
	CITUS_TABLE_OTHER			/* Citus local, single-shard, append or range */
} CitusTableKind;

extern CitusTableKind CitusTableKindOf(Oid relationId, AttrNumber *distributionColumn);
extern bool IsDistributedSource(Oid relationId);
extern void DistributeColocated(Oid relationId, const char *columnName, Oid colocateWith);
extern int	BeginLocalDDL(void);
extern void EndLocalDDL(int nestLevel);
extern char *WhyNotPushedDown(const char *command);

#endif							/* INCREMENTAL_CITUS_TABLES_H */
