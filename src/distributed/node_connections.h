/*-------------------------------------------------------------------------
 *
 * node_connections.h
 *	  Connections of this session to the other Citus nodes, kept open from
 *	  one batch to the next.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_NODE_CONNECTIONS_H
#define INCREMENTAL_NODE_CONNECTIONS_H

/* What a node answered to a one-value query */
typedef struct NodeReply
{
	bool		success;		/* false: result is the error */
	char	   *result;
} NodeReply;

extern bool AskNodesOverKeptConnections(int nodeCount, char **nodeNames, int *nodePorts,
										const char *command, int timeoutMs,
										NodeReply *replies);

#endif							/* INCREMENTAL_NODE_CONNECTIONS_H */
