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
 *	 - every batch gets a custom plan (CURSOR_OPT_CUSTOM_PLAN), made for
 *	   its own range: a generic plan would be made for no range at all, and
 *	   a backlog batch of millions of rows needs another plan than a batch
 *	   of ten.
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
 * new one.  The cache holds at most MAX_CACHED_COMMANDS entries: when it
 * is full, it is emptied, which costs only a new analysis per pipeline.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pipelines/command_cache.h"
#include "pipelines/pipeline_create.h"

#define MAX_COMMAND_ARGS 4

typedef struct CachedCommand
{
	char		pipelineName[MAX_PIPELINE_NAME_BYTES + 1];	/* hash key */
	TimestampTz createdAt;
	char	   *command;
	char	   *searchPath;		/* NULL: the default */
	int			nargs;
	Oid			argtypes[MAX_COMMAND_ARGS];
	SPIPlanPtr	plan;
} CachedCommand;

static HTAB *CachedCommands = NULL;
static MemoryContext CachedCommandContext = NULL;

/* set when a catalog that resolves names changed: empty before use */
static bool CachedCommandsStale = false;

/* the catalogs whose changes can make a name resolve to another object */
static const int NameCaches[] = {
	PROCNAMEARGSNSP, RELNAMENSP, TYPENAMENSP, OPERNAMENSP, NAMESPACENAME
};

static void ForgetCachedCommands(void);
static void MarkCachedCommandsStale(Datum argument, int cacheId, uint32 hashValue);
static bool CachedCommandMatches(CachedCommand *entry, const Pipeline *pipeline, int nargs,
								 Oid *argtypes);


SPIPlanPtr
PipelineCommandPlan(const Pipeline *pipeline, int nargs, Oid *argtypes)
{
	CachedCommand *entry;
	bool		found;
	SPIPlanPtr	plan;

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
		return entry->plan;

	/* prepared first: an error leaves the cache as it was */
	plan = SPI_prepare_cursor(pipeline->command, nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
	if (plan == NULL)
		elog(ERROR, "could not prepare the command of pipeline \"%s\": %s",
			 pipeline->name, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep the plan of pipeline \"%s\"", pipeline->name);

	if (entry == NULL && hash_get_num_entries(CachedCommands) >= MAX_CACHED_COMMANDS)
		ForgetCachedCommands();

	entry = hash_search(CachedCommands, pipeline->name, HASH_ENTER, &found);
	if (found)
	{
		SPI_freeplan(entry->plan);
		pfree(entry->command);
		if (entry->searchPath != NULL)
			pfree(entry->searchPath);
	}
	entry->createdAt = pipeline->createdAt;
	entry->command = MemoryContextStrdup(CachedCommandContext, pipeline->command);
	entry->searchPath = pipeline->searchPath != NULL ?
		MemoryContextStrdup(CachedCommandContext, pipeline->searchPath) : NULL;
	entry->nargs = nargs;
	memcpy(entry->argtypes, argtypes, sizeof(Oid) * nargs);
	entry->plan = plan;

	return plan;
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


static void
ForgetCachedCommands(void)
{
	HASH_SEQ_STATUS status;
	CachedCommand *entry;

	hash_seq_init(&status, CachedCommands);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		SPI_freeplan(entry->plan);
		pfree(entry->command);
		if (entry->searchPath != NULL)
			pfree(entry->searchPath);
		(void) hash_search(CachedCommands, entry->pipelineName, HASH_REMOVE, NULL);
	}
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
