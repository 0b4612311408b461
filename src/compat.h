/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL versions the extension builds for.
 *
 * The code is written against PostgreSQL 15's API; this header maps the
 * calls whose names or signatures differ in 14, 16, 17 and 18.  Include it
 * after postgres.h in any file that uses one of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_COMPAT_H
#define INCREMENTAL_COMPAT_H

#if PG_VERSION_NUM < 150000
/* 15 renamed the fixed-parameter analysis entry point */
#define pg_analyze_and_rewrite_fixedparams(rawStatement, queryString, paramTypes, numParams, queryEnv) \
	pg_analyze_and_rewrite((rawStatement), (queryString), (paramTypes), (numParams), (queryEnv))
/* 15 added MarkGUCPrefixReserved, which also reserves the prefix */
#define MarkGUCPrefixReserved(className) EmitWarningsOnPlaceholders(className)
#endif

#if PG_VERSION_NUM >= 160000
/* 16 added soft error reporting to stringToQualifiedNameList */
#define stringToQualifiedNameList(string) stringToQualifiedNameList((string), NULL)
/* 16 folded the per-catalog ownership and ACL checks into object_* ones */
#define pg_database_ownercheck(databaseId, roleId) \
	object_ownercheck(DatabaseRelationId, (databaseId), (roleId))
#define pg_proc_aclcheck(functionId, roleId, mode) \
	object_aclcheck(ProcedureRelationId, (functionId), (roleId), (mode))
#define pg_database_aclcheck(databaseId, roleId, mode) \
	object_aclcheck(DatabaseRelationId, (databaseId), (roleId), (mode))
#endif

#if PG_VERSION_NUM >= 180000
/* 18 lets callers accept a deferrable primary key; ours are not deferrable */
#define RelationGetPrimaryKeyIndex(relation) RelationGetPrimaryKeyIndex((relation), false)
#endif

#endif							/* INCREMENTAL_COMPAT_H */
