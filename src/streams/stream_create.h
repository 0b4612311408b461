/*-------------------------------------------------------------------------
 *
 * stream_create.h
 *	  Creating a stream: a table partitioned by ranges of its own identity
 *	  column, whose rows are kept until its consumers have processed them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_STREAM_CREATE_H
#define INCREMENTAL_STREAM_CREATE_H

#include "nodes/primnodes.h"

#include "catalog/stream_catalog.h"

/*
 * Creates the stream 'stream' with the column definitions 'columns' (the
 * text between the parentheses of CREATE TABLE), as the definition's id
 * column, retention and partitioning say; returns the table's OID.
 */
extern Oid	CreateStream(RangeVar *stream, const char *columns, StreamDefinition *definition);

#endif							/* INCREMENTAL_STREAM_CREATE_H */
