/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Defines the extension's settings.
 *
 * The variables behind settings that the pipelines read live in
 * src/pipelines/ (the scheduler depends on the pipelines, never the other
 * way around); this file only registers them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "pipelines/file_list.h"
#include "scheduler/guc.h"

void
DefineIncrementalSettings(void)
{
	DefineCustomStringVariable("incremental.default_file_list_function",
							   "List function used by file list pipelines created without one.",
							   "A set-returning function that takes a pattern and returns a "
							   "\"path text\" column, e.g. incremental.list_local_files.",
							   &DefaultFileListFunction,
							   "incremental.list_local_files",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("incremental");
}
