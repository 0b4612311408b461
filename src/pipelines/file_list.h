/*-------------------------------------------------------------------------
 *
 * file_list.h
 *	  File list pipelines: the list function, and the setting that names
 *	  the default one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_FILE_LIST_H
#define INCREMENTAL_FILE_LIST_H

/* incremental.default_file_list_function */
extern char *DefaultFileListFunction;

/*
 * The query that lists a pipeline's files with the given list function
 * (NULL: the default setting), resolved with the current search_path;
 * an error when there is no such function.
 */
extern char *ListFilesQuery(const char *listFunction);

#endif							/* INCREMENTAL_FILE_LIST_H */
