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
 * The schema-qualified name of a list function (NULL: the one the default
 * setting names), found with the current search_path and checked for the
 * current user; what a new pipeline records.
 */
extern char *ResolveListFunction(const char *listFunction);

#endif							/* INCREMENTAL_FILE_LIST_H */
