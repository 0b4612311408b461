/*-------------------------------------------------------------------------
 *
 * list_local_files.c
 *	  incremental.list_local_files(pattern text): the default list function
 *	  of file list pipelines, for files on the database server.
 *
 * It expands a shell glob over absolute paths (all .csv files of a
 * directory, say) and returns the regular files that match, sorted.  Like
 * COPY FROM a file, it reveals the server's file system, so it is for
 * superusers and members of pg_read_server_files only.  Object storage URLs need a list function of
 * the extension that reads them (pg_lake, crunchy_lake, ...).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <glob.h>
#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(incremental_list_local_files);

/*
 * glob() walks every directory a wildcard component matches, cannot be
 * interrupted, and keeps every match in memory: a pattern with many
 * wildcard components can walk the whole file system and exhaust memory.
 */
#define MAX_WILDCARD_COMPONENTS 4

static void CheckGlobDepth(const char *pattern);
static List *GlobRegularFiles(const char *pattern);


Datum
incremental_list_local_files(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *resultInfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *pattern = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *paths;
	ListCell   *pathCell;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to list files on the database server"),
				 errdetail("Only superusers and members of pg_read_server_files may list "
						   "server files.")));

	if (strstr(pattern, "://") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("incremental.list_local_files only lists files on the database server"),
				 errdetail("The pattern \"%s\" is a URL.", pattern),
				 errhint("Set incremental.default_file_list_function, or pass list_function, "
						 "to a list function that supports such URLs.")));

	if (!is_absolute_path(pattern))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file pattern \"%s\" is not an absolute path", pattern),
				 errhint("Use a pattern such as '/data/in/*.csv'.")));

	CheckGlobDepth(pattern);
	paths = GlobRegularFiles(pattern);

#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
#else
	{
		MemoryContext callerContext =
			MemoryContextSwitchTo(resultInfo->econtext->ecxt_per_query_memory);

		resultInfo->returnMode = SFRM_Materialize;
		resultInfo->setDesc = CreateTupleDescCopy(resultInfo->expectedDesc);
		resultInfo->setResult = tuplestore_begin_heap(true, false, work_mem);
		MemoryContextSwitchTo(callerContext);
	}
#endif
	foreach(pathCell, paths)
	{
		Datum		value = CStringGetTextDatum(lfirst(pathCell));
		bool		isNull = false;

		tuplestore_putvalues(resultInfo->setResult, resultInfo->setDesc, &value, &isNull);
	}

	return (Datum) 0;
}


/* CheckGlobDepth refuses patterns whose directory walk could be unbounded */
static void
CheckGlobDepth(const char *pattern)
{
	int			wildcardComponents = 0;
	bool		componentHasWildcard = false;

	for (const char *c = pattern;; c++)
	{
		if (*c == '/' || *c == '\0')
		{
			if (componentHasWildcard)
				wildcardComponents++;
			componentHasWildcard = false;
			if (*c == '\0')
				break;
		}
		else if (*c == '*' || *c == '?' || *c == '[')
			componentHasWildcard = true;
	}

	if (wildcardComponents > MAX_WILDCARD_COMPONENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file pattern \"%s\" has %d path components with wildcards",
						pattern, wildcardComponents),
				 errdetail("At most %d are allowed, so that listing files cannot walk the "
						   "whole file system.", MAX_WILDCARD_COMPONENTS),
				 errhint("Name the directories, e.g. '/data/in/*/*.csv'.")));
}


/*
 * GlobRegularFiles returns the regular files matching the pattern, sorted.
 * glob() allocates with malloc, so its result is copied out and freed
 * before anything that reports an error.
 */
static List *
GlobRegularFiles(const char *pattern)
{
	glob_t		matches;
	int			globResult = glob(pattern, 0, NULL, &matches);
	List	   *paths = NIL;

	if (globResult == 0)
	{
		for (size_t i = 0; i < matches.gl_pathc; i++)
		{
			struct stat fileStatus;

			if (stat(matches.gl_pathv[i], &fileStatus) == 0 && S_ISREG(fileStatus.st_mode))
				paths = lappend(paths, pstrdup(matches.gl_pathv[i]));
		}
	}
	globfree(&matches);

	if (globResult != 0 && globResult != GLOB_NOMATCH)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not list files matching \"%s\"", pattern)));

	return paths;
}
