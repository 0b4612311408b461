/*-------------------------------------------------------------------------
 *
 * role_ddl.c
 *	  What DROP ROLE, REASSIGN OWNED and DROP OWNED do about pipelines.
 *
 * PostgreSQL refuses to drop a role that owns objects, in any database,
 * and REASSIGN OWNED and DROP OWNED deal with those objects in the current
 * database.  A pipeline is not an object PostgreSQL knows, so the
 * ProcessUtility hook (ddl_hooks.c) does the same for pipelines here, so
 * that no pipeline is left with an owner that no longer exists:
 *
 *	 - DROP ROLE fails for a role that owns pipelines in the current
 *	   database (read under the role's lock, which pipeline creation takes
 *	   too, so none can slip in) or, as far as the scheduler's workers have
 *	   seen, in another database;
 *	 - REASSIGN OWNED BY old TO new gives old's pipelines to new, pg_cron
 *	   jobs included;
 *	 - DROP OWNED BY old drops old's pipelines.
 *
 * Each runs only where the command's own permission checks pass: the
 * DROP ROLE check from the object access hook that DropRole() calls after
 * its own checks and just before it locks the role; the other two from the
 * utility hook, after the command succeeded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "pipelines/pipeline_owners.h"
#include "scheduler/pg_cron_mode.h"
#include "scheduler/role_ddl.h"
#include "scheduler/shmem.h"

/* How many pipeline names a refusal lists */
#define NAMES_IN_MESSAGE 5

static void RoleDropAccessHook(ObjectAccessType access, Oid classId, Oid objectId,
							   int subId, void *arg);
static void CheckRoleOwnsNoPipelines(Oid roleId, const char *roleName);


static object_access_hook_type previousObjectAccessHook = NULL;

/* Installs the DROP ROLE check; called from _PG_init */
void
InstallRoleDropCheck(void)
{
	previousObjectAccessHook = object_access_hook;
	object_access_hook = RoleDropAccessHook;
}


/*
 * RoleDropAccessHook refuses to drop a role that owns pipelines.  DropRole()
 * calls it once it has checked the current user's right to drop the role,
 * and locks the role right after; the lock is taken here first, as pipeline
 * creation takes it, so that no pipeline can slip in between.
 */
static void
RoleDropAccessHook(ObjectAccessType access, Oid classId, Oid objectId, int subId,
				   void *arg)
{
	if (previousObjectAccessHook != NULL)
		previousObjectAccessHook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != AuthIdRelationId)
		return;

	LockSharedObject(AuthIdRelationId, objectId, 0, AccessExclusiveLock);
	CheckRoleOwnsNoPipelines(objectId, GetUserNameFromId(objectId, false));
}


static void
CheckRoleOwnsNoPipelines(Oid roleId, const char *roleName)
{
	Oid		   *databaseIds;
	int			databaseCount;

	if (PipelineCatalogReadable())
	{
		List	   *names = PipelinesOwnedBy(roleId);

		if (names != NIL)
		{
			StringInfoData listed;
			ListCell   *cell;
			int			shown = 0;

			initStringInfo(&listed);
			foreach(cell, names)
			{
				if (shown++ == NAMES_IN_MESSAGE)
					break;
				appendStringInfo(&listed, "%s%s", shown > 1 ? ", " : "",
								 quote_identifier(lfirst(cell)));
			}

			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("role \"%s\" cannot be dropped because it owns pipelines", roleName),
					 errdetail_plural("It owns %d pipeline in this database: %s.",
									  "It owns %d pipelines in this database, among them %s.",
									  list_length(names), list_length(names), listed.data),
					 errhint("Drop them with incremental.drop_pipeline, or run REASSIGN OWNED BY %s "
							 "TO another role, or DROP OWNED BY %s, in each database where it owns pipelines.",
							 quote_identifier(roleName), quote_identifier(roleName))));
		}
	}

	databaseCount = DatabasesWithRole(roleId, &databaseIds);
	for (int i = 0; i < databaseCount; i++)
	{
		char	   *databaseName;

		if (databaseIds[i] == MyDatabaseId)
			continue;
		databaseName = get_database_name(databaseIds[i]);
		if (databaseName == NULL)
			continue;			/* dropped meanwhile */

		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("role \"%s\" cannot be dropped because it owns pipelines", roleName),
				 errdetail("It owns pipelines in database \"%s\".", databaseName),
				 errhint("In that database, drop them with incremental.drop_pipeline, or run REASSIGN OWNED BY %s "
						 "TO another role, or DROP OWNED BY %s.",
						 quote_identifier(roleName), quote_identifier(roleName))));
	}
}


/*
 * ReassignPipelinesOwnedBy gives the pipelines of the statement's roles to
 * its new role, after REASSIGN OWNED succeeded.
 */
void
ReassignPipelinesOwnedBy(ReassignOwnedStmt *statement)
{
	Oid			newOwnerId;
	ListCell   *cell;

	if (!PipelineCatalogReadable())
		return;

	newOwnerId = get_rolespec_oid(statement->newrole, false);
	foreach(cell, statement->roles)
	{
		Oid			oldOwnerId = get_rolespec_oid(lfirst(cell), false);
		ListCell   *nameCell;

		if (oldOwnerId == newOwnerId)
			continue;

		foreach(nameCell, PipelinesOwnedBy(oldOwnerId))
		{
			Pipeline   *pipeline = ReassignPipeline(lfirst(nameCell), oldOwnerId, newOwnerId);

			if (pipeline != NULL)
				HandOverCronJob(pipeline);
		}
	}
}


/*
 * DropPipelinesOwnedByRoles drops the pipelines of the statement's roles,
 * after DROP OWNED succeeded.
 */
void
DropPipelinesOwnedByRoles(DropOwnedStmt *statement)
{
	ListCell   *cell;

	if (!PipelineCatalogReadable())
		return;

	foreach(cell, statement->roles)
		DropPipelinesOwnedBy(get_rolespec_oid(lfirst(cell), false));
}
