/*-------------------------------------------------------------------------
 *
 * schedule_sql.c
 *	  SQL-callable wrappers around the schedule parser.
 *
 * incremental._schedule_is_valid() backs the CHECK constraint on
 * incremental.pipelines.schedule, so a bad schedule is refused when it is
 * written rather than discovered by the scheduler later.  It raises an error
 * instead of returning false, because a bare "violates check constraint"
 * would hide what is wrong with the text.
 *
 * incremental.schedule_next_run() lets users see when a schedule would
 * fire, using exactly the code the scheduler uses.  incremental.pipeline_stats
 * calls it once per pipeline with the same "after" (now()) and, mostly, a
 * handful of distinct schedules, so each call site remembers its last few
 * schedules, zones and answers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "scheduler/schedule.h"

/* How much of a rejected schedule to repeat in the error message */
#define MAX_ECHOED_SCHEDULE_LENGTH 200

/* Time zone used when neither the caller nor incremental.timezone names one */
#define DEFAULT_TIME_ZONE "GMT"

PG_FUNCTION_INFO_V1(incremental_schedule_is_valid);
PG_FUNCTION_INFO_V1(incremental_schedule_next_run);

/* How many schedules a call site of schedule_next_run() remembers */
#define NEXT_RUN_CACHE_SIZE 8

/* A schedule that a call site of schedule_next_run() computed for */
typedef struct NextRunCacheEntry
{
	text	   *scheduleText;	/* NULL: the entry is unused */
	Schedule	schedule;
	char	   *timeZoneName;
	pg_tz	   *timeZone;
	TimestampTz after;
	TimestampTz nextRun;
} NextRunCacheEntry;

/* The call site's memory (fn_extra) */
typedef struct NextRunCache
{
	NextRunCacheEntry entries[NEXT_RUN_CACHE_SIZE];
	int			nextVictim;		/* replaced round robin */
} NextRunCache;

static bool TextEquals(const text *a, const text *b);

static void ParseScheduleOrError(const char *scheduleText, Schedule *schedule);
static pg_tz *LookupTimeZone(const char *timeZoneName);


/*
 * incremental_schedule_is_valid returns true for a NULL (manual only) or
 * valid schedule and raises an error describing the problem otherwise.
 */
Datum
incremental_schedule_is_valid(PG_FUNCTION_ARGS)
{
	Schedule	schedule;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(true);

	ParseScheduleOrError(text_to_cstring(PG_GETARG_TEXT_PP(0)), &schedule);

	PG_RETURN_BOOL(true);
}

/*
 * incremental_schedule_next_run(schedule, after, time_zone) returns the
 * first time strictly after 'after' at which the schedule fires, or
 * infinity when it never does (@reboot, or a date such as February 30th).
 * A NULL time zone means the incremental.timezone setting.
 */
Datum
incremental_schedule_next_run(PG_FUNCTION_ARGS)
{
	NextRunCache *cache = fcinfo->flinfo->fn_extra;
	MemoryContext cacheContext = fcinfo->flinfo->fn_mcxt;
	NextRunCacheEntry *entry;
	text	   *scheduleText;
	TimestampTz after;
	const char *timeZoneName = NULL;
	Schedule	schedule;
	pg_tz	   *timeZone;
	TimestampTz nextRun;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();

	scheduleText = PG_GETARG_TEXT_PP(0);
	after = PG_GETARG_TIMESTAMPTZ(1);

	if (!PG_ARGISNULL(2))
		timeZoneName = text_to_cstring(PG_GETARG_TEXT_PP(2));
	else
	{
		/* missing_ok: the setting may not be defined in every build */
		timeZoneName = GetConfigOption("incremental.timezone", true, false);
		if (timeZoneName == NULL || timeZoneName[0] == '\0')
			timeZoneName = DEFAULT_TIME_ZONE;
	}

	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(cacheContext, sizeof(NextRunCache));

	for (int i = 0; i < NEXT_RUN_CACHE_SIZE; i++)
	{
		entry = &cache->entries[i];
		if (entry->scheduleText != NULL && entry->after == after &&
			TextEquals(entry->scheduleText, scheduleText) &&
			strcmp(entry->timeZoneName, timeZoneName) == 0)
			PG_RETURN_TIMESTAMPTZ(entry->nextRun);
	}

	/* errors (a bad schedule or zone) must come before the cache changes */
	ParseScheduleOrError(text_to_cstring(scheduleText), &schedule);
	timeZone = LookupTimeZone(timeZoneName);
	nextRun = ScheduleNextRun(&schedule, after, timeZone);

	entry = &cache->entries[cache->nextVictim];
	cache->nextVictim = (cache->nextVictim + 1) % NEXT_RUN_CACHE_SIZE;
	if (entry->scheduleText != NULL)
	{
		pfree(entry->scheduleText);
		pfree(entry->timeZoneName);
	}
	entry->scheduleText = (text *) MemoryContextAlloc(cacheContext, VARSIZE_ANY(scheduleText));
	memcpy(entry->scheduleText, scheduleText, VARSIZE_ANY(scheduleText));
	entry->timeZoneName = MemoryContextStrdup(cacheContext, timeZoneName);
	entry->schedule = schedule;
	entry->timeZone = timeZone;
	entry->after = after;
	entry->nextRun = nextRun;

	PG_RETURN_TIMESTAMPTZ(nextRun);
}


/* TextEquals compares two text values byte for byte */
static bool
TextEquals(const text *a, const text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}


static void
ParseScheduleOrError(const char *scheduleText, Schedule *schedule)
{
	char	   *errorMessage = NULL;
	char	   *echoed;
	int			length;

	if (ParseSchedule(scheduleText, schedule, &errorMessage))
		return;

	/* the parser's messages are lower-case fragments: make a sentence */
	if (errorMessage == NULL || errorMessage[0] == '\0')
		errorMessage = pstrdup("the schedule could not be parsed");
	errorMessage[0] = pg_toupper((unsigned char) errorMessage[0]);

	/* a schedule can be long; the errdetail already says what is wrong */
	length = strlen(scheduleText);
	if (length > MAX_ECHOED_SCHEDULE_LENGTH)
		echoed = psprintf("%s...",
						  pnstrdup(scheduleText,
								   pg_mbcliplen(scheduleText, length,
												MAX_ECHOED_SCHEDULE_LENGTH)));
	else
		echoed = pstrdup(scheduleText);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", echoed),
			 errdetail("%s.", errorMessage),
			 errhint("%s", ScheduleFormsHint())));
}

/*
 * LookupTimeZone loads a time zone by name, as the TimeZone setting does.
 */
static pg_tz *
LookupTimeZone(const char *timeZoneName)
{
	pg_tz	   *timeZone = pg_tzset(timeZoneName);

	if (timeZone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not recognized", timeZoneName),
				 errhint("Use a name from pg_timezone_names, such as \"GMT\" or \"Europe/Amsterdam\".")));

	/* like the TimeZone setting, refuse zones that count leap seconds */
	if (!pg_tz_acceptable(timeZone))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" appears to use leap seconds", timeZoneName),
				 errdetail("PostgreSQL does not support leap seconds.")));

	return timeZone;
}
