/*-------------------------------------------------------------------------
 *
 * stream_retention.h
 *	  What a retention says, and putting one on a table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_STREAM_RETENTION_H
#define INCREMENTAL_STREAM_RETENTION_H

#include "catalog/stream_catalog.h"

/* How often a table's maintenance pipeline runs */
#define STREAM_MAINTENANCE_INTERVAL_SECONDS 10

/*
 * Parses a retention: NULL keeps every row, 'consumed' drops what every
 * consumer processed, an interval also keeps rows at least that long.
 */
extern void ParseRetention(const char *retention, bool *dropConsumed, Interval **keep);

/* The retention as incremental.streams shows it */
extern char *RetentionText(const StreamDefinition *definition);

/*
 * Records a definition and creates its maintenance pipeline, whose name
 * it chooses and sets in the definition.
 */
extern void StartStreamMaintenance(StreamDefinition *definition);

/* Whether the table's rows go once its consumers have processed them */
extern bool TableHasRetention(Oid relationId);

#endif							/* INCREMENTAL_STREAM_RETENTION_H */
