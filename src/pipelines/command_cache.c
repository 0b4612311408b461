/*-------------------------------------------------------------------------
 *
 * command_cache.c
 *	  Keeping each pipeline's command prepared in the session that runs it.
 *
 * A scheduler worker runs the same commands again and again, every few
 * milliseconds for a short schedule; parsing and analysing the command
 * each time was a good part of a batch's fixed cost.  So the session keeps
 * one prepared statement per pipeline, a CachedPlanSource of PostgreSQL's
 * plan cache, which is what makes it safe to keep:
 *
 *	 - DDL on anything the command uses invalidates it, and the next
 *	   execution analyses the command again, as for any prepared statement;
 *	 - it is analysed again when the search_path differs, and when row
 *	   security makes it depend on the role that runs it;
 *	 - every batch gets a plan made for a range of its size: a backlog
 *	   batch of millions of rows needs another plan than a batch of ten.
 *	   Each class of batch size (a factor of 4) has a prepared statement
 *	   of its own whose generic plan was planned with the values of the
 *	   first batch of that size as estimates (command_planner.c), and is
 *	   kept for the next ones.  A command that reads a partitioned table
 *	   or a table with children, and any command with Citus in the
 *	   database, gets a custom plan (CURSOR_OPT_CUSTOM_PLAN) for every
 *	   batch instead, planned for its own values (CommandNeedsCustomPlans
 *	   says why).
 *
 * The plan cache does not notice a new object that would resolve a name
 * of the command differently: a function or table created in a schema
 * earlier in the search_path, or a schema of the search_path created.
 * pg_incremental 1.x parsed the command at every batch, so it did; to keep
 * that, any change to the catalogs that resolve names (functions, relations,
 * types, operators, schemas) empties the cache, and the next batch of
 * every pipeline analyses its command again.  DDL is rare next to batches.
 *
 * An entry is kept for a pipeline (its name and creation time) and the
 * exact command text, search_path and parameter types it was prepared
 * with; alter_pipeline changes the text, and the next batch prepares the
 * new one.  The cache holds at most MAX_CACHED_COMMANDS entries and
 * MAX_CACHED_PLANS prepared statements: when it is full, it is emptied,
 * which costs only a new analysis per pipeline and size of batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "distributed/citus_nodes.h"
#include "pipelines/command_cache.h"
#include "pipelines/command_planner.h"
#include "pipelines/pipeline_create.h"

#define MAX_COMMAND_ARGS 4

/* the prepared statement of each size class, and the custom one */
#define CUSTOM_PLAN_SLOT BATCH_SIZE_CLASSES
#define PLAN_SLOTS (BATCH_SIZE_CLASSES + 1)

typedef struct CachedCommand
{
	char		pipelineName[MAX_PIPELINE_NAME_BYTES + 1];	/* hash key */
	TimestampTz createdAt;
	char	   *command;
	char	   *searchPath;		/* NULL: the default */
	int			nargs;
	Oid			argtypes[MAX_COMMAND_ARGS];
	SPIPlanPtr	plans[PLAN_SLOTS];	/* NULL until a batch needs it */
	bool		customOnly;		/* it reads partitions: a custom plan per batch */
} CachedCommand;

static HTAB *CachedCommands = NULL;
static MemoryContext CachedCommandContext = NULL;
static int	CachedPlanCount = 0;

/* set when a catalog that resolves names changed: empty before use */
static bool CachedCommandsStale = false;

/* the catalogs whose changes can make a name resolve to another object */
static const int NameCaches[] = {
	PROCNAMEARGSNSP, RELNAMENSP, TYPENAMENSP, OPERNAMENSP, NAMESPACENAME
};

static CachedCommand *CommandEntry(const Pipeline *pipeline, int nargs, Oid *argtypes);
static SPIPlanPtr PrepareCommand(const Pipeline *pipeline, int nargs, Oid *argtypes,
								 int cursorOptions);
static void ForgetCommand(CachedCommand *entry);
static void ForgetCachedCommands(void);
static void MarkCachedCommandsStale(Datum argument, int cacheId, uint32 hashValue);
static bool CachedCommandMatches(CachedCommand *entry, const Pipeline *pipeline, int nargs,
								 Oid *argtypes);


/*
 * ExecuteCachedCommand runs the pipeline's command with the batch's
 * parameters through the prepared statement for the batch's size, which it
 * prepares first when the session has none, and returns SPI's result.
 */
int
ExecuteCachedCommand(const Pipeline *pipeline, int nargs, Oid *argtypes, Datum *values)
{
	CachedCommand *entry = CommandEntry(pipeline, nargs, argtypes);

	if (!entry->customOnly && !CitusIsPresent())
	{
		int			slot = BatchSizeClass(nargs, argtypes, values);

		if (entry->plans[slot] == NULL)
		{
			SPIPlanPtr	plan = PrepareCommand(pipeline, nargs, argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

			/* what it reads is known once analysed: over partitions, not this */
			if (CommandNeedsCustomPlans(plan))
			{
				SPI_freeplan(plan);
				CachedPlanCount--;
				entry->customOnly = true;
			}
			else
				entry->plans[slot] = plan;
		}
		if (!entry->customOnly)
			return ExecuteEstimatedPlan(entry->plans[slot], nargs, argtypes, values);
	}

	if (entry->plans[CUSTOM_PLAN_SLOT] == NULL)
		entry->plans[CUSTOM_PLAN_SLOT] = PrepareCommand(pipeline, nargs, argtypes,
														CURSOR_OPT_CUSTOM_PLAN);
	return SPI_execute_plan(entry->plans[CUSTOM_PLAN_SLOT], values, NULL, false, 0);
}


/* A prepared statement of the command, kept in the session */
static SPIPlanPtr
PrepareCommand(const Pipeline *pipeline, int nargs, Oid *argtypes, int cursorOptions)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(pipeline->command, nargs, argtypes, cursorOptions);

	if (plan == NULL)
		elog(ERROR, "could not prepare the command of pipeline \"%s\": %s",
			 pipeline->name, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep the plan of pipeline \"%s\"", pipeline->name);
	CachedPlanCount++;
	return plan;
}


/*
 * CommandEntry: the cache's entry for the pipeline's command as it is now,
 * with no prepared statement yet if it is new
 */
static CachedCommand *
CommandEntry(const Pipeline *pipeline, int nargs, Oid *argtypes)
{
	CachedCommand *entry;
	bool		found;

	Assert(nargs <= MAX_COMMAND_ARGS);

	if (CachedCommands == NULL)
	{
		HASHCTL		info = {0};

		CachedCommandContext = AllocSetContextCreate(CacheMemoryContext,
													 "pg_incremental command cache",
													 ALLOCSET_SMALL_SIZES);
		info.keysize = MAX_PIPELINE_NAME_BYTES + 1;
		info.entrysize = sizeof(CachedCommand);
		info.hcxt = CachedCommandContext;
		CachedCommands = hash_create("pg_incremental commands", MAX_CACHED_COMMANDS, &info,
									 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		for (int i = 0; i < (int) lengthof(NameCaches); i++)
			CacheRegisterSyscacheCallback(NameCaches[i], MarkCachedCommandsStale, (Datum) 0);
	}

	if (CachedCommandsStale)
	{
		CachedCommandsStale = false;
		ForgetCachedCommands();
	}

	entry = hash_search(CachedCommands, pipeline->name, HASH_FIND, NULL);
	if (entry != NULL && CachedCommandMatches(entry, pipeline, nargs, argtypes))
	{
		if (CachedPlanCount < MAX_CACHED_PLANS)
			return entry;
		ForgetCachedCommands();
	}
	else if (entry != NULL)
		ForgetCommand(entry);
	else if (hash_get_num_entries(CachedCommands) >= MAX_CACHED_COMMANDS ||
			 CachedPlanCount >= MAX_CACHED_PLANS)
		ForgetCachedCommands();

	entry = hash_search(CachedCommands, pipeline->name, HASH_ENTER, &found);
	Assert(!found);
	entry->createdAt = pipeline->createdAt;
	entry->command = MemoryContextStrdup(CachedCommandContext, pipeline->command);
	entry->searchPath = pipeline->searchPath != NULL ?
		MemoryContextStrdup(CachedCommandContext, pipeline->searchPath) : NULL;
	entry->nargs = nargs;
	memcpy(entry->argtypes, argtypes, sizeof(Oid) * nargs);
	memset(entry->plans, 0, sizeof(entry->plans));
	entry->customOnly = false;

	return entry;
}


static bool
CachedCommandMatches(CachedCommand *entry, const Pipeline *pipeline, int nargs, Oid *argtypes)
{
	if (entry->createdAt != pipeline->createdAt || entry->nargs != nargs ||
		strcmp(entry->command, pipeline->command) != 0)
		return false;
	if ((entry->searchPath == NULL) != (pipeline->searchPath == NULL) ||
		(entry->searchPath != NULL && strcmp(entry->searchPath, pipeline->searchPath) != 0))
		return false;
	return memcmp(entry->argtypes, argtypes, sizeof(Oid) * nargs) == 0;
}


/* ForgetCommand frees an entry's prepared statements and removes it */
static void
ForgetCommand(CachedCommand *entry)
{
	for (int slot = 0; slot < PLAN_SLOTS; slot++)
	{
		if (entry->plans[slot] != NULL)
		{
			SPI_freeplan(entry->plans[slot]);
			CachedPlanCount--;
		}
	}
	pfree(entry->command);
	if (entry->searchPath != NULL)
		pfree(entry->searchPath);
	(void) hash_search(CachedCommands, entry->pipelineName, HASH_REMOVE, NULL);
}


static void
ForgetCachedCommands(void)
{
	HASH_SEQ_STATUS status;
	CachedCommand *entry;

	hash_seq_init(&status, CachedCommands);
	while ((entry = hash_seq_search(&status)) != NULL)
		ForgetCommand(entry);
}


/*
 * A syscache callback: only note the change, since it may come in the
 * middle of anything; the next lookup empties the cache.
 */
static void
MarkCachedCommandsStale(Datum argument, int cacheId, uint32 hashValue)
{
	CachedCommandsStale = true;
}
