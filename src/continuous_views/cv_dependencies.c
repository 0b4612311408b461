/*-------------------------------------------------------------------------
 *
 * cv_dependencies.c
 *	  What a continuous view depends on, recorded in pg_depend so that
 *	  PostgreSQL itself refuses what would break its batches.
 *
 * A plain view's query reads only its storage, so PostgreSQL would know
 * nothing of the tables and columns its batches read.  This records:
 *	- the view's rule on every column its query reads (the source's
 *	  sequence column and a sliding window's time column included), and on
 *	  every column of its storage and side tables, which the batches write:
 *	  DROP COLUMN and ALTER COLUMN ... TYPE of them are refused as for any
 *	  view;
 *	- the view on every table its query reads and on its side tables: DROP
 *	  TABLE needs CASCADE, which drops the view;
 *	- the view and its tables on the extension: DROP EXTENSION needs
 *	  CASCADE.
 * pg_dump keeps no pg_depend entries; the trigger on
 * incremental.continuous_view_definitions records them again when
 * pg_restore loads its rows, from the view's query text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "rewrite/rewriteSupport.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog/catalog_version.h"
#include "continuous_views/cv_create.h"
#include "continuous_views/cv_dependencies.h"
#include "pipelines/sequence.h"

PG_FUNCTION_INFO_V1(incremental_record_continuous_view_dependencies);

/* The range tables of the queries around a node, innermost first */
typedef struct ColumnCollector
{
	List	   *rangeTables;
	List	   *columns;		/* ObjectAddress * of (relation, column) */
} ColumnCollector;

static bool CollectRelations(Node *node, List **relationIds);
static void RecordRuleDependencies(Oid viewId, Oid sourceId, const char *queryText,
								   const char *slidingColumn, ColumnCollector *collector);
static bool CollectColumns(Node *node, ColumnCollector *collector);
static void AddColumn(ColumnCollector *collector, Oid relationId, AttrNumber column);
static void AddAllColumns(ColumnCollector *collector, Oid relationId);
static Datum RowAttribute(HeapTuple row, TupleDesc descriptor, const char *name,
						  bool *isNull);
static List *OidArrayToList(Datum array);
static void RecordDependency(const ObjectAddress *dependent, Oid classId, Oid objectId,
							 int32 subId);


/* The relations a query reads, each once, in subqueries too */
List *
QueryRelations(Query *query)
{
	List	   *relationIds = NIL;

	(void) CollectRelations((Node *) query, &relationIds);
	return relationIds;
}


static bool
CollectRelations(Node *node, List **relationIds)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
			*relationIds = list_append_unique_oid(*relationIds, rte->relid);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CollectRelations, relationIds,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, CollectRelations, relationIds);
}


/*
 * The trigger on incremental.continuous_view_definitions that records a
 * continuous view's dependencies for a row inserted by creation or by
 * pg_restore.
 */
Datum
incremental_record_continuous_view_dependencies(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;
	TupleDesc	descriptor;
	HeapTuple	row;
	Oid			extensionId = IncrementalExtensionId();
	ObjectAddress view;
	Oid			sourceId;
	List	   *tableIds;
	List	   *readIds;
	ColumnCollector collector = {0};
	bool		isNull;
	Datum		slidingColumn;
	ListCell   *cell;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(trigger->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("incremental._record_continuous_view_dependencies() must be called "
						"as a row trigger on INSERT")));

	descriptor = RelationGetDescr(trigger->tg_relation);
	row = trigger->tg_trigtuple;
	ObjectAddressSet(view, RelationRelationId,
					 DatumGetObjectId(RowAttribute(row, descriptor, "view_name", NULL)));
	sourceId = DatumGetObjectId(RowAttribute(row, descriptor, "source_table", NULL));
	tableIds = lcons_oid(DatumGetObjectId(RowAttribute(row, descriptor, "storage_table", NULL)),
						 OidArrayToList(RowAttribute(row, descriptor, "distinct_tables", NULL)));
	readIds = OidArrayToList(RowAttribute(row, descriptor, "read_tables", NULL));

	if (get_rel_relkind(view.objectId) != RELKIND_VIEW)
		return PointerGetDatum(row);

	RecordDependency(&view, ExtensionRelationId, extensionId, 0);
	foreach(cell, tableIds)
	{
		Oid			tableId = lfirst_oid(cell);
		ObjectAddress table;

		if (get_rel_relkind(tableId) == '\0')
			continue;
		ObjectAddressSet(table, RelationRelationId, tableId);
		RecordDependency(&table, ExtensionRelationId, extensionId, 0);
		if (foreach_current_index(cell) > 0)	/* the view itself reads its storage */
			RecordDependency(&view, RelationRelationId, tableId, 0);
		AddAllColumns(&collector, tableId);
	}
	foreach(cell, readIds)
	{
		if (get_rel_relkind(lfirst_oid(cell)) != '\0')
			RecordDependency(&view, RelationRelationId, lfirst_oid(cell), 0);
	}

	slidingColumn = RowAttribute(row, descriptor, "sliding_column", &isNull);
	RecordRuleDependencies(view.objectId, sourceId,
						   TextDatumGetCString(RowAttribute(row, descriptor, "query", NULL)),
						   isNull ? NULL : TextDatumGetCString(slidingColumn), &collector);

	return PointerGetDatum(row);
}


/*
 * RecordRuleDependencies makes the view's rule depend on every column the
 * query reads, the source's sequence column and a sliding window's column
 * (slidingColumn, or NULL), besides those already in the collector.  Also
 * after CREATE OR REPLACE VIEW, which forgets the rule's dependencies.
 */
static void
RecordRuleDependencies(Oid viewId, Oid sourceId, const char *queryText,
					   const char *slidingColumn, ColumnCollector *collector)
{
	ObjectAddress rule;
	List	   *sequenceIds;
	ListCell   *cell;

	/* the columns, from the query as written (names qualified) */
	(void) CollectColumns((Node *) AnalyzeViewQueryText(queryText), collector);
	if (slidingColumn != NULL)
		AddColumn(collector, sourceId, get_attnum(sourceId, slidingColumn));
	sequenceIds = getOwnedSequences(sourceId);
	if (list_length(sequenceIds) == 1)
	{
		Oid			tableId;
		AttrNumber	column = SequenceOwnerColumn(linitial_oid(sequenceIds), &tableId);

		if (column != InvalidAttrNumber)
			AddColumn(collector, sourceId, column);
	}

	ObjectAddressSet(rule, RewriteRelationId,
					 get_rewrite_oid(viewId, ViewSelectRuleName, false));
	foreach(cell, collector->columns)
	{
		ObjectAddress *column = lfirst(cell);

		RecordDependency(&rule, RelationRelationId, column->objectId, column->objectSubId);
	}
}


/*
 * RecordViewRuleDependencies records the dependencies of a continuous
 * view's rule again, after CREATE OR REPLACE VIEW gave it a new query (and
 * forgot them): on every column of its tables (the storage, the side
 * tables) and of the source that its query reads.
 */
void
RecordViewRuleDependencies(Oid viewId, Oid sourceId, List *tableIds, const char *queryText,
						   const char *slidingColumn)
{
	ColumnCollector collector = {0};
	ListCell   *cell;

	foreach(cell, tableIds)
		AddAllColumns(&collector, lfirst_oid(cell));
	RecordRuleDependencies(viewId, sourceId, queryText, slidingColumn, &collector);
}


/* The columns of relations that a query and its subqueries read */
static bool
CollectColumns(Node *node, ColumnCollector *collector)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		bool		result;

		collector->rangeTables = lcons(query->rtable, collector->rangeTables);
		/* a join's alias list holds all its columns; only those used count */
		result = query_tree_walker(query, CollectColumns, collector, QTW_IGNORE_JOINALIASES);
		collector->rangeTables = list_delete_first(collector->rangeTables);
		return result;
	}
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		List	   *rangeTable;
		RangeTblEntry *rte;

		if (var->varlevelsup >= (Index) list_length(collector->rangeTables))
			return false;
		rangeTable = list_nth(collector->rangeTables, var->varlevelsup);
		rte = rt_fetch(var->varno, rangeTable);
		if (rte->rtekind == RTE_RELATION)
			AddColumn(collector, rte->relid, var->varattno);
		else if (rte->rtekind == RTE_JOIN && var->varattno > 0 &&
				 var->varattno <= list_length(rte->joinaliasvars))
		{
			/* a join's column is one of its inputs' (or an expression of them) */
			Node	   *aliased = copyObject(list_nth(rte->joinaliasvars, var->varattno - 1));

			IncrementVarSublevelsUp(aliased, var->varlevelsup, 0);
			return CollectColumns(aliased, collector);
		}
		return false;
	}
	return expression_tree_walker(node, CollectColumns, collector);
}


/* A column once; a whole-row reference as every column of the relation */
static void
AddColumn(ColumnCollector *collector, Oid relationId, AttrNumber column)
{
	ObjectAddress *address;
	ListCell   *cell;

	if (column < 0)
		return;					/* system columns cannot be dropped */

	foreach(cell, collector->columns)
	{
		address = lfirst(cell);
		if (address->objectId == relationId && address->objectSubId == column)
			return;
	}
	address = palloc(sizeof(ObjectAddress));
	ObjectAddressSubSet(*address, RelationRelationId, relationId, column);
	collector->columns = lappend(collector->columns, address);
}


/* Every column of a table */
static void
AddAllColumns(ColumnCollector *collector, Oid relationId)
{
	Relation	relation = relation_open(relationId, AccessShareLock);
	TupleDesc	descriptor = RelationGetDescr(relation);

	for (int i = 0; i < descriptor->natts; i++)
	{
		if (!TupleDescAttr(descriptor, i)->attisdropped)
			AddColumn(collector, relationId, TupleDescAttr(descriptor, i)->attnum);
	}
	relation_close(relation, AccessShareLock);
}


/* A column of a catalog row, by name; isNull NULL: it must not be NULL */
static Datum
RowAttribute(HeapTuple row, TupleDesc descriptor, const char *name, bool *isNull)
{
	int			attnum = SPI_fnumber(descriptor, name);
	bool		null;
	Datum		value;

	if (attnum <= 0)
		elog(ERROR, "continuous_view_definitions has no column \"%s\"", name);
	value = heap_getattr(row, attnum, descriptor, &null);
	if (isNull != NULL)
		*isNull = null;
	else if (null)
		elog(ERROR, "continuous_view_definitions.%s is NULL", name);
	return value;
}


static List *
OidArrayToList(Datum array)
{
	Datum	   *elements;
	int			count;
	List	   *oids = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elements, NULL, &count);
	for (int i = 0; i < count; i++)
		oids = lappend_oid(oids, DatumGetObjectId(elements[i]));
	return oids;
}


static void
RecordDependency(const ObjectAddress *dependent, Oid classId, Oid objectId, int32 subId)
{
	ObjectAddress referenced;

	ObjectAddressSubSet(referenced, classId, objectId, subId);
	recordDependencyOn(dependent, &referenced, DEPENDENCY_NORMAL);
}
