/*-------------------------------------------------------------------------
 *
 * catalog_version.c
 *	  Refusing to work on a catalog of another version.
 *
 * The C code reads the extension's tables by column number and its SQL
 * functions by argument position, as sql/pg_incremental--2.0.sql and the
 * updates after it define them.  A database can still hold an older
 * catalog: our own 2.0 before ALTER EXTENSION ... UPDATE, the original
 * pg_incremental 1.3 or 1.4 (whose SQL functions name the same C symbols
 * in the same library file, which our package replaces), or our own 1.3
 * script before ALTER EXTENSION ... UPDATE.  Reading such a catalog would
 * give wrong results, so every catalog access, and every SQL entry point
 * whose arguments differ between versions, first checks pg_extension and
 * stops with a hint to update.
 *
 * A positive answer, and the extension's OID, are remembered until a
 * relcache invalidation arrives (DROP EXTENSION, CREATE EXTENSION and
 * ALTER EXTENSION ... UPDATE all send some, for the tables they drop,
 * create or alter), so the checks cost nothing on the scheduler's hot
 * paths.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "catalog/catalog_version.h"

/* remembered answers; reset by any relcache invalidation */
static bool versionMatches = false;
static Oid	extensionId = InvalidOid;
static bool callbackRegistered = false;

static char *InstalledVersion(void);
static void RegisterForgetCallback(void);
static void ForgetVersion(Datum arg, Oid relationId);


/*
 * IncrementalExtensionId returns the OID of pg_incremental in this
 * database, or InvalidOid.  After taking a lock on the extension, calling
 * it again tells whether the extension was dropped meanwhile: the lock
 * processes the drop's invalidations, which make it look again.
 */
Oid
IncrementalExtensionId(void)
{
	if (OidIsValid(extensionId))
		return extensionId;

	RegisterForgetCallback();
	extensionId = get_extension_oid("pg_incremental", true);
	return extensionId;
}


/*
 * InstalledVersionMatchesLibrary is true when pg_incremental is installed
 * in this database at the version this library implements.
 */
bool
InstalledVersionMatchesLibrary(void)
{
	char	   *version;

	if (versionMatches)
		return true;

	RegisterForgetCallback();
	version = InstalledVersion();
	versionMatches = version != NULL &&
		strcmp(version, INCREMENTAL_LIBRARY_VERSION) == 0;

	return versionMatches;
}


/* CheckInstalledVersion raises an error unless the versions match */
void
CheckInstalledVersion(void)
{
	char	   *version;

	if (InstalledVersionMatchesLibrary())
		return;

	version = InstalledVersion();
	if (version == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_incremental is not installed in this database"),
				 errhint("Run CREATE EXTENSION pg_incremental.")));

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("pg_incremental version %s is installed in this database, "
					"but the library implements version %s",
					version, INCREMENTAL_LIBRARY_VERSION),
			 errhint("Run ALTER EXTENSION pg_incremental UPDATE to convert the "
					 "pipelines to version %s.", INCREMENTAL_LIBRARY_VERSION)));
}


/* extversion of pg_incremental in pg_extension, or NULL */
static char *
InstalledVersion(void)
{
	Relation	relation = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("pg_incremental"));
	scan = systable_beginscan(relation, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);

	if (HeapTupleIsValid(tuple))
	{
		bool		isNull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(relation), &isNull);

		if (!isNull)
			version = TextDatumGetCString(datum);
	}

	systable_endscan(scan);
	table_close(relation, AccessShareLock);

	return version;
}


static void
RegisterForgetCallback(void)
{
	if (callbackRegistered)
		return;

	CacheRegisterRelcacheCallback(ForgetVersion, (Datum) 0);
	callbackRegistered = true;
}


/*
 * Any relcache invalidation may be the catalog changing shape; they are
 * rare enough that looking again is cheaper than telling them apart.
 */
static void
ForgetVersion(Datum arg, Oid relationId)
{
	versionMatches = false;
	extensionId = InvalidOid;
}
