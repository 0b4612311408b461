/*-------------------------------------------------------------------------
 *
 * catalog_access.h
 *	  Low-level access to the extension's tables, shared by the files of
 *	  src/catalog/ and private to them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_CATALOG_ACCESS_H
#define INCREMENTAL_CATALOG_ACCESS_H

#include "executor/spi.h"

#include "catalog/catalog_tables.h"

/*
 * A catalog statement: its SQL text, parameter types, and the plan cached
 * for the rest of the session after its first use.
 */
typedef struct CatalogStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[24];
	SPIPlanPtr	plan;
} CatalogStatement;

extern Oid	CatalogTableId(CatalogTable table);

extern bool ReadCatalogRow(CatalogTable table, int nkeys, Datum *keys,
						   Datum *values, bool *nulls);
extern bool ReadNewestCatalogRow(CatalogTable table, const char *indexName,
								 AttrNumber keyAttribute, Datum key,
								 Datum *values, bool *nulls);
extern void CatalogKeysExist(CatalogTable table, Datum firstKey, const Datum *secondKeys,
							 int count, bool *exists);
extern List *ReadAllCatalogRows(CatalogTable table, int natts);

/* The null flags stored after the values of a row from ReadAllCatalogRows */
#define CatalogRowNulls(values, natts) ((bool *) ((values) + (natts)))

extern uint64 ModifyCatalog(CatalogStatement *statement, Datum *values, const char *nulls);

/* The direct writes of every batch (see catalog_access.c) */
extern void InsertCatalogRow(CatalogTable table, Datum *values, bool *nulls);
extern bool UpdateCatalogRow(CatalogTable table, Datum key, int ncolumns,
							 const AttrNumber *columns, const Datum *values, const bool *nulls);
extern bool LockCatalogRowForKeyShare(CatalogTable table, Datum key);
extern int64 NextCatalogIdentity(CatalogTable table, AttrNumber column);
extern bool QueryCatalog(CatalogStatement *statement, Datum *values, const char *nulls,
						 Datum *resultValues, bool *resultNulls, int resultCount);

#endif							/* INCREMENTAL_CATALOG_ACCESS_H */
