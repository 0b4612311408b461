/*-------------------------------------------------------------------------
 *
 * process_common.c
 *	  Small helpers shared by the launcher and the per-database workers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "postmaster/interrupt.h"
#include "utils/guc.h"

#include "scheduler/process_common.h"

/* Applies a SIGHUP, outside any transaction */
void
ReloadConfigIfPending(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/*
 * The wait after the given number of consecutive failures: baseMs after
 * the first, doubling each time, never more than maxMs.
 */
long
ExponentialBackoffMs(int failures, long baseMs, long maxMs)
{
	long		delay = baseMs;

	for (int i = 1; i < failures && delay < maxMs; i++)
		delay *= 2;
	return Min(delay, maxMs);
}
