/*-------------------------------------------------------------------------
 *
 * file_list.h
 *	  File list pipelines: settings they read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_FILE_LIST_H
#define INCREMENTAL_FILE_LIST_H

/* incremental.default_file_list_function */
extern char *DefaultFileListFunction;

#endif							/* INCREMENTAL_FILE_LIST_H */
