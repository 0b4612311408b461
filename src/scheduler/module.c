/*-------------------------------------------------------------------------
 *
 * module.c
 *	  Entry point of the pg_incremental shared library.
 *
 * _PG_init defines the extension's settings, connects the scheduler to the
 * core's pipeline events and installs the utility hook (database DDL,
 * REASSIGN/DROP OWNED), the object access hook (DROP ROLE of a role
 * that owns pipelines) and the planner hook that plans a command for the
 * size of its batch (src/pipelines/command_planner.c).  Only when the library is preloaded does it
 * set up the scheduler itself: shared memory, and the launcher
 * (src/scheduler/launcher.c), which starts the workers.  A pg_upgrade run, in binary upgrade mode, starts
 * no launcher, and incremental.max_workers = 0 disables the scheduler.
 *
 * Without the preload everything the core offers still works; pipelines
 * then run only when executed by hand, and creating a scheduled one says
 * so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "continuous_views/cv_ddl.h"
#include "pipelines/command_planner.h"
#include "scheduler/commit_wakeup.h"
#include "scheduler/ddl_hooks.h"
#include "scheduler/role_ddl.h"
#include "scheduler/guc.h"
#include "scheduler/launcher.h"
#include "scheduler/scheduler_status.h"
#include "scheduler/shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	bool		preloading = process_shared_preload_libraries_in_progress;

	SetSchedulerPreloaded(preloading);
	DefineIncrementalSettings();
	InstallCommitWakeup();
	InstallDdlHooks();
	InstallRoleDropCheck();
	InstallContinuousViewHooks();
	InstallCommandPlanner();

	if (!preloading)
		return;

	InstallSchedulerShmemHooks();

	if (IsBinaryUpgrade || SchedulerMaxWorkers == 0)
		return;

	RegisterSchedulerLauncher();
}
