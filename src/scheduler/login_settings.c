/*-------------------------------------------------------------------------
 *
 * login_settings.c
 *	  Whether the settings a new login of a worker's role would get have
 *	  changed since the worker logged in.
 *
 * A worker runs its role's pipelines with the settings of its own session,
 * as pg_cron runs a job with those of a session logged in as the job's
 * user: postgresql.conf, then what ALTER ROLE ... SET and ALTER DATABASE
 * ... SET stored, in their four combinations, as of the login.  A session
 * cannot take a stored setting back once it has been removed (RESET): the
 * value it overrode at login is gone.  So the worker compares the stored
 * settings with those it logged in with, and logs in again when they
 * differ: a batch always has the settings that a new session of its owner
 * would have.  The comparison reads the catalog only when the count of
 * committed ALTER ROLE/DATABASE ... SET statements moved (the utility hook
 * counts them in shared memory), or when asked to (at every re-read of the
 * pipelines, for a catalog changed some other way).
 *
 * The settings are compared as text, row by row, in the order the login
 * applies them (process_settings() in postinit.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "scheduler/login_settings.h"
#include "scheduler/shmem.h"

/* The stored settings the session logged in with, as ReadStoredSettings says */
static char *loginSettings = NULL;

/* SettingsChangeCount() when they were last compared */
static uint64 comparedAtChange = 0;

static char *ReadStoredSettings(void);
static void AppendStoredSettings(StringInfo out, Relation settings, Oid databaseId,
								 Oid roleId);


void
RememberLoginSettings(void)
{
	char	   *settings;

	comparedAtChange = SettingsChangeCount();
	settings = ReadStoredSettings();

	loginSettings = MemoryContextStrdup(TopMemoryContext, settings);
	pfree(settings);
}


bool
LoginSettingsChanged(bool evenIfNotCounted)
{
	uint64		changeCount = SettingsChangeCount();
	char	   *settings;
	bool		changed;

	if (!evenIfNotCounted && changeCount == comparedAtChange)
		return false;
	comparedAtChange = changeCount;

	settings = ReadStoredSettings();
	Assert(loginSettings != NULL);
	changed = strcmp(settings, loginSettings) != 0;
	pfree(settings);

	return changed;
}


/*
 * ReadStoredSettings returns, as one string, the rows of pg_db_role_setting
 * that a login of the session's role to this database applies.
 */
static char *
ReadStoredSettings(void)
{
	Relation	settings = table_open(DbRoleSettingRelationId, AccessShareLock);
	Oid			roleId = GetAuthenticatedUserId();
	StringInfoData stored;

	initStringInfo(&stored);
	AppendStoredSettings(&stored, settings, MyDatabaseId, roleId);
	AppendStoredSettings(&stored, settings, InvalidOid, roleId);
	AppendStoredSettings(&stored, settings, MyDatabaseId, InvalidOid);
	AppendStoredSettings(&stored, settings, InvalidOid, InvalidOid);
	table_close(settings, AccessShareLock);

	return stored.data;
}


/* AppendStoredSettings appends one row's settings, each after its length */
static void
AppendStoredSettings(StringInfo out, Relation settings, Oid databaseId, Oid roleId)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(databaseId));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(roleId));
	scan = systable_beginscan(settings, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isNull;
		Datum		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(settings), &isNull);
		Datum	   *items;
		int			count;

		if (isNull)
			continue;

		deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT,
						  &items, NULL, &count);
		for (int i = 0; i < count; i++)
		{
			char	   *item = TextDatumGetCString(items[i]);

			appendStringInfo(out, "%zu:%s", strlen(item), item);
		}
	}
	appendStringInfoChar(out, ';');

	systable_endscan(scan);
}
