/*-------------------------------------------------------------------------
 *
 * relation_name.c
 *	  A relation's name as messages and generated SQL write it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "common/relation_name.h"


/*
 * QualifiedRelationName: schema and name, each quoted where needed.  A
 * relation dropped meanwhile, or an OID that never was one, comes back as
 * the number, so that a message about it can still be written.
 */
char *
QualifiedRelationName(Oid relationId)
{
	char	   *name = get_rel_name(relationId);

	if (name == NULL)
		return psprintf("%u", relationId);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relationId)), name);
}
