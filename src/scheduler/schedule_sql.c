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
 * fire, using exactly the code the scheduler uses.
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
	Schedule	schedule;
	TimestampTz after;
	const char *timeZoneName = NULL;
	pg_tz	   *timeZone;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();

	ParseScheduleOrError(text_to_cstring(PG_GETARG_TEXT_PP(0)), &schedule);
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

	timeZone = LookupTimeZone(timeZoneName);

	PG_RETURN_TIMESTAMPTZ(ScheduleNextRun(&schedule, after, timeZone));
}

/*
 * ParseScheduleOrError parses a schedule, turning the parser's message into
 * an errdetail sentence.
 */
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
