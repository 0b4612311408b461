/*-------------------------------------------------------------------------
 *
 * node_connections.c
 *	  Connections of this session to the other Citus nodes, kept open from
 *	  one batch to the next.
 *
 * Every batch of a sequence pipeline over a distributed source asks each
 * other node where its copy of the sequence stands and waits there for
 * the writers of the source (citus_nodes.c).  Asked through Citus'
 * master_run_on_worker(), that was a new connection to every node at
 * every batch: a backend started there, a TLS handshake (Citus' default
 * citus.node_conninfo is sslmode=require) and Citus' caches loaded again,
 * once a second per node at a '1 second' schedule, on nodes whose writers
 * share the same cores.  So the session keeps one connection per node and
 * role, made as Citus makes its own: host and port from pg_dist_node, this
 * database, the current user, and the options of citus.node_conninfo.
 *
 * What is sent is the caller's query, one statement in autocommit: a kept
 * connection holds no transaction and no lock between batches, and runs
 * nothing but those queries, under the role it was opened for.  That role
 * is the current user, the pipeline's owner during a batch, and it is part
 * of the connection's key (with its OID, so that a role dropped and made
 * again under the same name gets a connection of its own): a session that
 * runs the batches of several owners, a superuser's, never lends one
 * owner's connection to another.
 *
 * With whose rights: dblink and postgres_fdw refuse a non-superuser a
 * connection that does not use a password, lest the role borrow the
 * server's own credentials (trust on loopback, its .pgpass, its client
 * certificate).  Here neither the node nor the user name comes from the
 * role: the node is in pg_dist_node, which only a superuser writes, and
 * the user is the role itself.  Citus connects the same way, with the
 * same credentials, for every distributed query the role runs, so a kept
 * connection gives the role nothing its own distributed queries do not.
 *
 * Whenever a kept connection cannot answer - the node refuses it (a
 * password that Citus keeps in pg_dist_authinfo, which only superusers may
 * read), it was restarted, or it says nothing in time - it is closed and
 * false returned, and the caller asks the nodes through
 * master_run_on_worker() as before; a node that refused is not tried again
 * for a minute.  Waits honour interrupts; a connection an error left in
 * the middle of a query is closed before its next use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "distributed/node_connections.h"

#define CONNECT_TIMEOUT_MS 5000
#define RETRY_REFUSED_AFTER_MS 60000
#define MAX_KEPT_CONNECTIONS 64
#define CONNECTION_KEY_BYTES 512
#define MAX_CONNECTION_OPTIONS 48

typedef struct KeptConnection
{
	char		key[CONNECTION_KEY_BYTES];	/* node, port, role: hash key */
	PGconn	   *conn;			/* NULL: none now */
	bool		busy;			/* a query sent and not all of it read */
	TimestampTz refusedAt;		/* when the node last refused it, or 0 */
} KeptConnection;

static HTAB *KeptConnections = NULL;

static KeptConnection *NodeConnection(const char *nodeName, int nodePort);
static PGconn *ConnectToNode(const char *nodeName, int nodePort, const char *userName);
static bool WaitForSocket(PGconn *conn, int event, TimestampTz deadline);
static PGresult *LastResult(KeptConnection *kept, TimestampTz deadline);
static void CloseBusyConnections(KeptConnection **kept, int count);
static void CloseConnection(KeptConnection *kept);
static void CloseKeptConnections(int code, Datum argument);


/*
 * AskNodesOverKeptConnections runs a one-value query on each node, all at
 * once, over the session's kept connections, within timeoutMs (-1: no
 * bound), and puts each node's answer, or its error, in replies.  False
 * when some node could not be asked that way: nothing in replies counts
 * then, and the caller asks another way.
 */
bool
AskNodesOverKeptConnections(int nodeCount, char **nodeNames, int *nodePorts,
							const char *command, int timeoutMs, NodeReply *replies)
{
	KeptConnection **kept = palloc0(sizeof(KeptConnection *) * nodeCount);
	TimestampTz deadline = 0;

	for (int i = 0; i < nodeCount; i++)
	{
		kept[i] = NodeConnection(nodeNames[i], nodePorts[i]);
		if (kept[i] == NULL)
			return false;
	}

	/* sent to every node first, so that they work at the same time */
	for (int i = 0; i < nodeCount; i++)
	{
		if (!PQsendQuery(kept[i]->conn, command))
		{
			CloseConnection(kept[i]);
			CloseBusyConnections(kept, nodeCount);
			return false;
		}
		kept[i]->busy = true;
	}

	if (timeoutMs >= 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeoutMs);
	for (int i = 0; i < nodeCount; i++)
	{
		PGresult   *result = LastResult(kept[i], deadline);

		if (result == NULL)
		{
			CloseConnection(kept[i]);
			CloseBusyConnections(kept, nodeCount);
			return false;
		}
		if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1 &&
			PQnfields(result) == 1)
		{
			replies[i].success = true;
			replies[i].result = pstrdup(PQgetisnull(result, 0, 0) ? "" :
										PQgetvalue(result, 0, 0));
		}
		else
		{
			char	   *message = pchomp(PQresultErrorMessage(result));

			replies[i].success = false;
			replies[i].result = message[0] != '\0' ? message :
				psprintf("unexpected answer: %s", PQresStatus(PQresultStatus(result)));
		}
		PQclear(result);
	}
	return true;
}


/*
 * NodeConnection: the session's open connection to the node for the
 * current user, opened now if need be; NULL when there is none to use
 */
static KeptConnection *
NodeConnection(const char *nodeName, int nodePort)
{
	char	   *userName = GetUserNameFromId(GetUserId(), false);
	char		key[CONNECTION_KEY_BYTES];
	KeptConnection *kept;
	bool		found;

	if (KeptConnections == NULL)
	{
		HASHCTL		info = {0};

		info.keysize = CONNECTION_KEY_BYTES;
		info.entrysize = sizeof(KeptConnection);
		KeptConnections = hash_create("pg_incremental node connections", 8, &info,
									  HASH_ELEM | HASH_STRINGS);
		on_proc_exit(CloseKeptConnections, (Datum) 0);
	}

	/* a name too long to be told apart from another is not kept */
	if (snprintf(key, sizeof(key), "%s:%d:%u:%s", nodeName, nodePort, GetUserId(),
				 userName) >= (int) sizeof(key))
		return NULL;

	kept = hash_search(KeptConnections, key, HASH_FIND, NULL);
	if (kept == NULL)
	{
		if (hash_get_num_entries(KeptConnections) >= MAX_KEPT_CONNECTIONS)
			return NULL;
		kept = hash_search(KeptConnections, key, HASH_ENTER, &found);
		kept->conn = NULL;
		kept->busy = false;
		kept->refusedAt = 0;
	}

	if (kept->conn != NULL && (kept->busy || PQstatus(kept->conn) != CONNECTION_OK))
		CloseConnection(kept);
	if (kept->conn == NULL)
	{
		if (kept->refusedAt != 0 &&
			!TimestampDifferenceExceeds(kept->refusedAt, GetCurrentTimestamp(),
										RETRY_REFUSED_AFTER_MS))
			return NULL;
		kept->conn = ConnectToNode(nodeName, nodePort, userName);
		kept->refusedAt = kept->conn == NULL ? GetCurrentTimestamp() : 0;
		if (kept->conn == NULL)
			return NULL;
	}
	return kept;
}


/*
 * ConnectToNode opens a connection to the node as Citus would for the
 * user, within CONNECT_TIMEOUT_MS; NULL when it could not
 */
static PGconn *
ConnectToNode(const char *nodeName, int nodePort, const char *userName)
{
	const char *keywords[MAX_CONNECTION_OPTIONS + 1];
	const char *values[MAX_CONNECTION_OPTIONS + 1];
	const char *nodeConninfo = GetConfigOption("citus.node_conninfo", true, false);
	PQconninfoOption *options = NULL;
	char		portText[16];
	int			count = 0;
	PGconn	   *conn;
	PostgresPollingStatusType status = PGRES_POLLING_WRITING;
	TimestampTz deadline;

	snprintf(portText, sizeof(portText), "%d", nodePort);
	keywords[count] = "host";
	values[count++] = nodeName;
	keywords[count] = "port";
	values[count++] = portText;
	keywords[count] = "dbname";
	values[count++] = get_database_name(MyDatabaseId);
	keywords[count] = "user";
	values[count++] = userName;
	keywords[count] = "application_name";
	values[count++] = "pg_incremental";

	if (nodeConninfo != NULL && nodeConninfo[0] != '\0')
	{
		char	   *error = NULL;

		options = PQconninfoParse(nodeConninfo, &error);
		if (options == NULL)
		{
			PQfreemem(error);
			return NULL;
		}
		for (PQconninfoOption *option = options; option->keyword != NULL; option++)
		{
			bool		ours = false;

			for (int i = 0; i < count && !ours; i++)
				ours = strcmp(keywords[i], option->keyword) == 0;
			if (option->val == NULL || ours || count >= MAX_CONNECTION_OPTIONS)
				continue;
			keywords[count] = option->keyword;
			values[count++] = option->val;
		}
	}
	keywords[count] = NULL;
	values[count] = NULL;

	/* fd.c counts the descriptors a backend holds */
	if (!AcquireExternalFD())
	{
		PQconninfoFree(options);
		return NULL;
	}
	conn = PQconnectStartParams(keywords, values, false);
	PQconninfoFree(options);
	if (conn == NULL)
	{
		ReleaseExternalFD();
		return NULL;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CONNECT_TIMEOUT_MS);
	PG_TRY();
	{
		while (PQstatus(conn) != CONNECTION_BAD && status != PGRES_POLLING_OK &&
			   status != PGRES_POLLING_FAILED)
		{
			if (!WaitForSocket(conn, status == PGRES_POLLING_READING ?
							   WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE, deadline))
				status = PGRES_POLLING_FAILED;
			else
				status = PQconnectPoll(conn);
		}
	}
	PG_CATCH();
	{
		PQfinish(conn);
		ReleaseExternalFD();
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (status != PGRES_POLLING_OK || PQstatus(conn) != CONNECTION_OK)
	{
		ereport(DEBUG1,
				(errmsg_internal("pg_incremental could not keep a connection to node %s:%d: %s",
								 nodeName, nodePort, pchomp(PQerrorMessage(conn)))));
		PQfinish(conn);
		ReleaseExternalFD();
		return NULL;
	}
	return conn;
}


/*
 * WaitForSocket waits until the connection's socket is ready for the event
 * or the deadline (0: none) passed, processing interrupts; false then.
 */
static bool
WaitForSocket(PGconn *conn, int event, TimestampTz deadline)
{
	if (PQsocket(conn) < 0)
		return false;

	for (;;)
	{
		long		timeoutMs = -1;
		int			waitFlags = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | event;
		int			rc;

		if (deadline != 0)
		{
			timeoutMs = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (timeoutMs <= 0)
				return false;
			waitFlags |= WL_TIMEOUT;
		}

		rc = WaitLatchOrSocket(MyLatch, waitFlags, PQsocket(conn), timeoutMs,
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & event)
			return true;
	}
}


/*
 * LastResult reads what the query sent on the connection returned, and
 * returns its last result; NULL when the connection failed or the
 * deadline passed first.
 */
static PGresult *
LastResult(KeptConnection *kept, TimestampTz deadline)
{
	PGresult   *volatile last = NULL;
	volatile bool failed = false;

	PG_TRY();
	{
		while (!failed)
		{
			PGresult   *result;

			if (PQisBusy(kept->conn))
			{
				if (!WaitForSocket(kept->conn, WL_SOCKET_READABLE, deadline) ||
					!PQconsumeInput(kept->conn))
					failed = true;
				continue;
			}
			result = PQgetResult(kept->conn);
			if (result == NULL)
				break;
			PQclear(last);
			last = result;
			if (PQstatus(kept->conn) == CONNECTION_BAD)
				failed = true;
		}
	}
	PG_CATCH();
	{
		PQclear(last);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (failed)
	{
		PQclear(last);
		return NULL;
	}
	kept->busy = false;
	return last;
}


/* CloseBusyConnections closes those of the connections left mid-query */
static void
CloseBusyConnections(KeptConnection **kept, int count)
{
	for (int i = 0; i < count; i++)
	{
		if (kept[i] != NULL && kept[i]->busy)
			CloseConnection(kept[i]);
	}
}


static void
CloseConnection(KeptConnection *kept)
{
	if (kept->conn == NULL)
		return;
	PQfinish(kept->conn);
	ReleaseExternalFD();
	kept->conn = NULL;
	kept->busy = false;
}


/*
 * At the session's end: the nodes see each connection end as it should,
 * rather than as a connection reset, which they would log
 */
static void
CloseKeptConnections(int code, Datum argument)
{
	HASH_SEQ_STATUS status;
	KeptConnection *kept;

	hash_seq_init(&status, KeptConnections);
	while ((kept = hash_seq_search(&status)) != NULL)
		CloseConnection(kept);
}
