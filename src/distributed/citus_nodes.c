/*-------------------------------------------------------------------------
 *
 * citus_nodes.c
 *	  Citus awareness: distributed sources, node groups, their sequences,
 *	  and the writers on other nodes.
 *
 * Since Citus 11 every node with metadata accepts writes to a distributed
 * table.  A write through the node of group g draws its id from that
 * node's copy of the sequence, which Citus confines to a range of its own
 * (for bigint, g * 2^48 + 1 to (g + 1) * 2^48), and takes no lock on the
 * coordinator.  A sequence pipeline on the coordinator therefore keeps
 * progress per node group (sequence_node_groups.c), reads where every
 * group's sequence stands before it waits, and waits for the writers on
 * every node, each node waiting for its own (incremental._wait_for_writers,
 * installed everywhere with the extension, since Citus propagates CREATE
 * EXTENSION).  That wait is WaitForSourceWriters(): it waits for the
 * transactions that hold a lock, and blocks no new writer.
 *
 * The commit of a write is safe to wait for on the node it came through:
 * Citus commits the write's shard transactions on the other nodes before
 * the originating transaction releases its locks (in its pre-commit and
 * commit callbacks), so once the wait on the originating node returns,
 * its rows are visible everywhere.  The exception is a prepared shard
 * transaction whose COMMIT PREPARED failed and that Citus' recovery
 * commits later; docs/citus.md documents that limit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "common/relation_name.h"
#include "distributed/citus_nodes.h"
#include "distributed/node_connections.h"

/* how long a node may take to answer, beyond the wait it was asked for */
#define NODE_ANSWER_MARGIN_MS 30000

static char *WaitForWritersCall(Oid relationId, Oid sequenceId, TimestampTz startedBefore,
								int maxWaitMs);
static List *RunOnNodes(List *nodeSequences, const char *command, int maxWaitMs,
						List **answered);
static void AskNodesThroughCitus(int count, char **names, int *ports, const char *command,
								 NodeReply *replies);


/*
 * CitusIsPresent: whether this database has Citus' metadata, looked up in
 * the relation cache, so that it costs nothing on a plain server.
 */
bool
CitusIsPresent(void)
{
	return OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE));
}


/* Runs a one-row, one-column query; false when it returned no row */
static bool
QueryOneValue(const char *sql, int nargs, Oid *argtypes, Datum *args, Datum *value,
			  bool *isNull)
{
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read Citus' metadata");
	found = SPI_processed > 0;
	if (found)
		*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isNull);
	SPI_finish();
	return found;
}


/*
 * SequenceIsOnOtherNodes: whether other nodes have a copy of the sequence,
 * so that writes there draw values this node's copy does not show: it
 * belongs to a table Citus knows (a serial or identity column, whose
 * sequence Citus does not always list as a distributed object), or it is
 * one of Citus' distributed objects (a sequence a distributed table's
 * default draws from).
 */
bool
SequenceIsOnOtherNodes(Oid sequenceId)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(sequenceId)};
	Datum		value;
	bool		isNull;

	if (!OidIsValid(sequenceId) || !CitusIsPresent())
		return false;
	return QueryOneValue("SELECT 1 FROM pg_catalog.pg_depend d "
						 "JOIN pg_catalog.pg_dist_partition p "
						 "ON p.logicalrelid OPERATOR(pg_catalog.=) d.refobjid "
						 "WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
						 "AND d.objid OPERATOR(pg_catalog.=) $1 "
						 "AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
						 "AND d.deptype OPERATOR(pg_catalog.=) ANY ('{a,i}'::\"char\"[]) "
						 "UNION ALL "
						 "SELECT 1 FROM pg_catalog.pg_dist_object o "
						 "WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
						 "AND o.objid OPERATOR(pg_catalog.=) $1 LIMIT 1",
						 1, argtypes, args, &value, &isNull);
}


/* IsCitusWorkerNode: whether this is a Citus node other than the coordinator */
bool
IsCitusWorkerNode(void)
{
	Datum		value;
	bool		isNull;

	if (!CitusIsPresent())
		return false;
	if (!QueryOneValue("SELECT groupid FROM pg_catalog.pg_dist_local_group",
					   0, NULL, NULL, &value, &isNull) || isNull)
		return false;
	return DatumGetInt32(value) != 0;
}


/*
 * RefuseOnCitusWorkerNode: pipelines live on the coordinator, which alone
 * schedules them; the workers' copies of the catalog stay empty.
 */
void
RefuseOnCitusWorkerNode(const char *action)
{
	if (IsCitusWorkerNode())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s on a Citus worker node", action),
				 errdetail("Pipelines are kept and scheduled on the coordinator only."),
				 errhint("Connect to the coordinator and run the command there.")));
}


/*
 * ReadOtherNodes returns the primary nodes with metadata of the groups
 * other than this node's, in group order; inactive ones come back
 * unreachable.  A node without metadata has no copy of the source, so no
 * write can come through it.
 */
List *
ReadOtherNodes(void)
{
	List	   *nodes = NIL;
	MemoryContext callerContext = CurrentMemoryContext;
	uint64		row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT n.groupid, n.nodename, n.nodeport, n.isactive "
					"FROM pg_catalog.pg_dist_node n "
					"WHERE n.noderole OPERATOR(pg_catalog.=) 'primary' AND n.hasmetadata "
					"AND n.groupid OPERATOR(pg_catalog.<>) "
					"(SELECT groupid FROM pg_catalog.pg_dist_local_group) "
					"ORDER BY n.groupid", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read Citus' nodes");
	for (row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		MemoryContext spiContext = MemoryContextSwitchTo(callerContext);
		NodeSequence *node = palloc0(sizeof(NodeSequence));
		bool		isNull;

		node->groupId = DatumGetInt32(SPI_getbinval(tuple, tupdesc, 1, &isNull));
		node->nodeName = SPI_getvalue(tuple, tupdesc, 2);
		node->nodePort = DatumGetInt32(SPI_getbinval(tuple, tupdesc, 3, &isNull));
		node->reachable = DatumGetBool(SPI_getbinval(tuple, tupdesc, 4, &isNull));
		if (!node->reachable)
			node->error = pstrdup("the node is inactive in Citus' metadata");
		nodes = lappend(nodes, node);
		MemoryContextSwitchTo(spiContext);
	}
	SPI_finish();
	return nodes;
}


/*
 * ReadOtherNodeSequences adds to ReadOtherNodes() where each group's copy
 * of the sequence stands.  Nodes that do not answer come back unreachable.
 *
 * With a waitRelationId, each node then waits, in the same round trip,
 * for the writers of that relation there (as WaitForWritersOnOtherNodes),
 * and says in writersDone whether they finished within maxWaitMs: a value
 * the node read is then committed or aborted.  One connection per node
 * instead of two, for what every batch of a sequence pipeline asks.
 */
List *
ReadOtherNodeSequences(Oid sequenceId, Oid waitRelationId, int maxWaitMs)
{
	List	   *nodes = ReadOtherNodes();
	List	   *answers;
	List	   *answered;
	StringInfoData command;
	ListCell   *nodeCell;
	ListCell   *answerCell;

	/*
	 * pg_sequence_last_value() raises an error without the privileges the
	 * run's role needs, rather than answering NULL as pg_sequences does.
	 * The sequence is read in a materialized CTE, so before the wait that
	 * the outer projection calls: what the wait covers is what was read.
	 */
	initStringInfo(&command);
	appendStringInfo(&command,
					 "WITH s AS MATERIALIZED ("
					 "SELECT coalesce(pg_catalog.pg_sequence_last_value(s.seqrelid)::text, '-') "
					 "OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) s.seqmin "
					 "OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) s.seqmax AS v "
					 "FROM pg_catalog.pg_sequence s "
					 "WHERE s.seqrelid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass) "
					 "SELECT s.v",
					 quote_literal_cstr(QualifiedRelationName(sequenceId)));
	if (OidIsValid(waitRelationId))
		appendStringInfo(&command, " OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) %s::text",
						 WaitForWritersCall(waitRelationId, sequenceId, DT_NOBEGIN, maxWaitMs));
	appendStringInfoString(&command, " FROM s");
	answers = RunOnNodes(nodes, command.data, maxWaitMs, &answered);

	forboth(nodeCell, answered, answerCell, answers)
	{
		NodeSequence *node = lfirst(nodeCell);
		char	   *answer = lfirst(answerCell);
		char		last[32];
		char		done[8] = "true";

		if (!node->reachable)
			continue;
		if (sscanf(answer, "%31s " INT64_FORMAT " " INT64_FORMAT " %7s",
				   last, &node->minValue, &node->maxValue, done) !=
			(OidIsValid(waitRelationId) ? 4 : 3))
		{
			node->reachable = false;
			node->error = psprintf("unexpected answer \"%s\"", answer);
			continue;
		}
		node->hasValue = strcmp(last, "-") != 0;
		if (node->hasValue)
			node->lastValue = pg_strtoint64(last);
		node->writersDone = strcmp(done, "true") == 0;
	}
	return nodes;
}


/*
 * WaitForWritersOnOtherNodes waits, on every reachable node of the list
 * at once, for the transactions there that may still add rows to the
 * source (WaitForSourceWriters() on that node).  False when one of them
 * still had writers after maxWaitMs, or did not answer.
 */
bool
WaitForWritersOnOtherNodes(List *nodeSequences, Oid relationId, Oid sequenceId,
						   TimestampTz startedBefore, int maxWaitMs)
{
	List	   *answers;
	List	   *answered;
	ListCell   *nodeCell;
	ListCell   *answerCell;
	bool		allDone = true;

	answers = RunOnNodes(nodeSequences,
						 psprintf("SELECT %s", WaitForWritersCall(relationId, sequenceId,
																 startedBefore, maxWaitMs)),
						 maxWaitMs, &answered);
	forboth(nodeCell, answered, answerCell, answers)
	{
		NodeSequence *node = lfirst(nodeCell);
		char	   *answer = lfirst(answerCell);

		if (!node->reachable)
		{
			ereport(LOG,
					(errmsg("could not wait for the writers on node %s:%d: %s",
							node->nodeName, node->nodePort, node->error)));
			allDone = false;
		}
		else if (strcmp(answer, "t") != 0)
			allDone = false;
	}
	return allDone;
}


/*
 * The call of incremental._wait_for_writers() that makes a node wait for
 * its own writers of the relation (WaitForSourceWriters() there)
 */
static char *
WaitForWritersCall(Oid relationId, Oid sequenceId, TimestampTz startedBefore, int maxWaitMs)
{
	return psprintf("incremental._wait_for_writers(%s::pg_catalog.regclass, %s, %s, %d)",
					quote_literal_cstr(QualifiedRelationName(relationId)),
					OidIsValid(sequenceId) ?
					psprintf("%s::pg_catalog.regclass",
							 quote_literal_cstr(QualifiedRelationName(sequenceId))) : "NULL",
					startedBefore != DT_NOBEGIN ?
					psprintf("%s::pg_catalog.timestamptz",
							 quote_literal_cstr(timestamptz_to_str(startedBefore))) : "NULL",
					maxWaitMs);
}


/*
 * RunOnNodes runs a one-value query on the reachable nodes of the list, in
 * parallel, each in a transaction of its own: over the session's kept
 * connections (node_connections.c), or else through master_run_on_worker(),
 * which opens new ones.  maxWaitMs is the longest the query waits on a
 * node (-1: no bound).  Returns the answers of the nodes it ran on, which
 * it puts in *answered, in the same order; a node whose query failed is
 * marked unreachable, with the error.  A failure that means the node's
 * extension is missing or older than ours is an error: that node could
 * not be waited for at all.
 */
static List *
RunOnNodes(List *nodeSequences, const char *command, int maxWaitMs, List **answered)
{
	int			count = 0;
	char	  **names = palloc(sizeof(char *) * Max(list_length(nodeSequences), 1));
	int		   *ports = palloc(sizeof(int) * Max(list_length(nodeSequences), 1));
	NodeReply  *replies = palloc0(sizeof(NodeReply) * Max(list_length(nodeSequences), 1));
	List	   *answers = NIL;
	ListCell   *nodeCell;

	*answered = NIL;
	foreach(nodeCell, nodeSequences)
	{
		NodeSequence *node = lfirst(nodeCell);

		if (!node->reachable)
			continue;
		names[count] = node->nodeName;
		ports[count] = node->nodePort;
		*answered = lappend(*answered, node);
		count++;
	}
	if (count == 0)
		return NIL;

	/* a node's own wait, and then some time for the round trip */
	if (!AskNodesOverKeptConnections(count, names, ports, command,
									 maxWaitMs < 0 ? -1 : maxWaitMs + NODE_ANSWER_MARGIN_MS,
									 replies))
		AskNodesThroughCitus(count, names, ports, command, replies);

	for (int i = 0; i < count; i++)
	{
		NodeSequence *node = list_nth(*answered, i);

		if (!replies[i].success)
		{
			if (strstr(replies[i].result, "incremental._wait_for_writers") != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("node %s:%d has no incremental._wait_for_writers()",
								node->nodeName, node->nodePort),
						 errdetail("%s", replies[i].result),
						 errhint("Install the same version of pg_incremental on every node "
								 "and run ALTER EXTENSION pg_incremental UPDATE on the "
								 "coordinator.")));
			node->reachable = false;
			node->error = replies[i].result;
		}
		answers = lappend(answers, replies[i].result);
	}
	return answers;
}


/*
 * AskNodesThroughCitus runs a one-value query on each node through
 * master_run_on_worker(), in parallel, in connections it opens for it,
 * and puts each answer or error in replies; "no answer" for a node it
 * left out.
 */
static void
AskNodesThroughCitus(int count, char **names, int *ports, const char *command,
					 NodeReply *replies)
{
	ArrayBuildState *nameArray = NULL;
	ArrayBuildState *portArray = NULL;
	ArrayBuildState *commandArray = NULL;
	Oid			argtypes[3] = {TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID};
	Datum		args[3];
	MemoryContext callerContext = CurrentMemoryContext;
	uint64		row;

	for (int i = 0; i < count; i++)
	{
		nameArray = accumArrayResult(nameArray, CStringGetTextDatum(names[i]), false,
									 TEXTOID, callerContext);
		portArray = accumArrayResult(portArray, Int32GetDatum(ports[i]), false,
									 INT4OID, callerContext);
		commandArray = accumArrayResult(commandArray, CStringGetTextDatum(command), false,
										TEXTOID, callerContext);
		replies[i].success = false;
		replies[i].result = "no answer";
	}
	args[0] = makeArrayResult(nameArray, callerContext);
	args[1] = makeArrayResult(portArray, callerContext);
	args[2] = makeArrayResult(commandArray, callerContext);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT success, result "
							  "FROM pg_catalog.master_run_on_worker($1, $2, $3, true)",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run a command on the other Citus nodes");

	/* master_run_on_worker answers in the order it was asked */
	for (row = 0; row < SPI_processed && row < (uint64) count; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		bool		isNull;
		bool		success = DatumGetBool(SPI_getbinval(tuple, tupdesc, 1, &isNull));
		char	   *result = SPI_getvalue(tuple, tupdesc, 2);
		MemoryContext spiContext = MemoryContextSwitchTo(callerContext);

		replies[row].success = success;
		replies[row].result = pstrdup(result != NULL ? result : "");
		MemoryContextSwitchTo(spiContext);
	}
	SPI_finish();
}

