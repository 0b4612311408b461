/*-------------------------------------------------------------------------
 *
 * role_ddl.h
 *	  What DROP ROLE, REASSIGN OWNED and DROP OWNED do about pipelines.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_ROLE_DDL_H
#define INCREMENTAL_ROLE_DDL_H

#include "nodes/parsenodes.h"

extern void InstallRoleDropCheck(void);
extern void ReassignPipelinesOwnedBy(ReassignOwnedStmt *statement);
extern void DropPipelinesOwnedByRoles(DropOwnedStmt *statement);

#endif							/* INCREMENTAL_ROLE_DDL_H */
