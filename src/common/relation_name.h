/*-------------------------------------------------------------------------
 *
 * relation_name.h
 *	  A relation's name as messages and generated SQL write it.
 *
 * Shared by every layer, so it depends on none of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_RELATION_NAME_H
#define INCREMENTAL_RELATION_NAME_H

extern char *QualifiedRelationName(Oid relationId);

#endif							/* INCREMENTAL_RELATION_NAME_H */
