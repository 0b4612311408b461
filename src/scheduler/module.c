/*-------------------------------------------------------------------------
 *
 * module.c
 *	  Entry point of the pg_incremental shared library.
 *
 * _PG_init defines the extension's settings.  Everything else happens in
 * the SQL-callable functions of src/pipelines/ and, when the library is
 * preloaded, in the scheduler's background workers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "scheduler/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineIncrementalSettings();
}
