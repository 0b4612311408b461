/*-------------------------------------------------------------------------
 *
 * catalog_version.h
 *	  The installed version of the extension must be the one this library
 *	  was built for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CATALOG_VERSION_H
#define INCREMENTAL_CATALOG_VERSION_H

/* default_version of pg_incremental.control; bump the two together */
#define INCREMENTAL_LIBRARY_VERSION "2.6"

extern Oid	IncrementalExtensionId(void);
extern bool InstalledVersionMatchesLibrary(void);
extern void CheckInstalledVersion(void);

#endif							/* INCREMENTAL_CATALOG_VERSION_H */
