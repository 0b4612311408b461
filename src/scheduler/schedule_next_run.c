/*-------------------------------------------------------------------------
 *
 * schedule_next_run.c
 *	  Computing when a parsed schedule next fires.
 *
 * Interval schedules fire that long after their previous run started.
 * Cron schedules fire on matching wall-clock minutes in a time zone; the
 * search walks the calendar field by field (month, day, hour, minute)
 * rather than minute by minute, and is bounded in years and in steps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "scheduler/schedule.h"

/*
 * A cron schedule that does not fire within this many years never will:
 * the longest legitimate wait is a February 29th across a non-leap century
 * year (2096 to 2104).
 */
#define MAX_SEARCH_YEARS 8

/*
 * Upper bound on the iterations of the next-run search, as a safety net
 * behind MAX_SEARCH_YEARS.  A year costs at most a few hundred steps.
 */
#define MAX_SEARCH_STEPS 100000

/* A broken-down local wall-clock time, at minute resolution */
typedef struct WallTime
{
	int			year;
	int			month;			/* 1-12 */
	int			day;			/* 1-31 */
	int			hour;
	int			minute;
} WallTime;

static TimestampTz CronNextRun(const Schedule *schedule, TimestampTz after,
							   pg_tz *tz);
static TimestampTz NextRunInRepeatedHour(const Schedule *schedule, TimestampTz after,
										 pg_tz *tz, TimestampTz wallClockNext);
static bool WallTimeMatches(const Schedule *schedule, const struct pg_tm *tm);
static bool UtcOffsetAt(pg_time_t instant, pg_tz *tz, long *offset);
static pg_time_t TimestampToUnixSeconds(TimestampTz timestamp);
static bool DayMatches(const Schedule *schedule, const WallTime *wall);
static int	NextBit(uint64 bits, int from, int to);
static bool ResolveWallTime(const WallTime *wall, TimestampTz after, pg_tz *tz,
							TimestampTz *result);
static bool LocalTimeAt(pg_time_t instant, pg_tz *tz, struct pg_tm *tm);
static pg_time_t WallTimeAsUtc(const WallTime *wall);

/*
 * ScheduleNextRun returns the first time strictly after 'after' at which the
 * schedule fires; see schedule.h.  DT_NOEND means "never": @reboot, a cron
 * schedule that cannot match within MAX_SEARCH_YEARS (such as February
 * 30th), a non-finite 'after', or a result past the end of the timestamp
 * range.
 */
TimestampTz
ScheduleNextRun(const Schedule *schedule, TimestampTz after, pg_tz *tz)
{
	TimestampTz next;

	if (TIMESTAMP_NOT_FINITE(after))
		return DT_NOEND;

	if (schedule->kind == SCHEDULE_INTERVAL)
	{
		if (schedule->intervalUsecs <= 0 ||
			after >= END_TIMESTAMP - schedule->intervalUsecs)
			return DT_NOEND;
		return after + schedule->intervalUsecs;
	}

	if (schedule->atStartup)
		return DT_NOEND;

	next = CronNextRun(schedule, after, tz);
	if (schedule->wildcardTime)
		next = NextRunInRepeatedHour(schedule, after, tz, next);

	return next;
}



/*
 * CronNextRun finds the first minute strictly after 'after' whose local
 * wall-clock time in tz matches the schedule.
 *
 * The search runs on wall-clock fields: a month that does not match is
 * skipped whole, then a day, then an hour, and within a matching hour the
 * next matching minute is looked up directly.  A year therefore costs at
 * most about 12 + 366 steps, and MAX_SEARCH_YEARS bounds the whole search.
 *
 * Daylight saving time: each matching wall-clock time is turned back into
 * an instant by ResolveWallTime().  A wall-clock time that does not exist
 * because the clocks jump forward over it is skipped, so a job at 02:30 does
 * not run on the night the clocks go from 02:00 to 03:00; jobs at other
 * times are unaffected.  A wall-clock time that occurs twice when the
 * clocks go back fires at its first occurrence only, because the search
 * continues from the wall-clock time after the previous run; only when
 * 'after' itself lies in the repeated hour does the second occurrence
 * count.  That is right for jobs at a fixed time, which have run already;
 * jobs whose minute or hour is a wildcard keep running through the repeated
 * hour, as in pg_cron and Vixie cron (NextRunInRepeatedHour).
 */
static TimestampTz
CronNextRun(const Schedule *schedule, TimestampTz after, pg_tz *tz)
{
	pg_time_t	afterSeconds;
	struct pg_tm tm;
	WallTime	wall;
	int			lastYear;

	afterSeconds = TimestampToUnixSeconds(after);

	if (!LocalTimeAt(afterSeconds, tz, &tm))
		return DT_NOEND;

	wall.year = tm.tm_year + 1900;
	wall.month = tm.tm_mon + 1;
	wall.day = tm.tm_mday;
	wall.hour = tm.tm_hour;
	wall.minute = tm.tm_min + 1;	/* strictly after */
	lastYear = wall.year + MAX_SEARCH_YEARS;

	for (int step = 0; step < MAX_SEARCH_STEPS; step++)
	{
		int			next;
		TimestampTz result;

		/* carry whatever the previous step pushed past its end */
		if (wall.minute > 59)
		{
			wall.minute = 0;
			wall.hour++;
		}
		if (wall.hour > 23)
		{
			wall.hour = 0;
			wall.day++;
		}
		if (wall.month > 12)
		{
			wall.month = 1;
			wall.year++;
		}
		if (wall.day > day_tab[isleap(wall.year)][wall.month - 1])
		{
			wall.day = 1;
			wall.month++;
			if (wall.month > 12)
			{
				wall.month = 1;
				wall.year++;
			}
		}

		/* past the end of the timestamp range, or it will never match */
		if (wall.year > lastYear || wall.year >= 294276)
			return DT_NOEND;

		if ((schedule->months & (1 << wall.month)) == 0)
		{
			wall.month++;
			wall.day = 1;
			wall.hour = 0;
			wall.minute = 0;
			continue;
		}

		if (!DayMatches(schedule, &wall))
		{
			wall.day++;
			wall.hour = 0;
			wall.minute = 0;
			continue;
		}

		next = NextBit(schedule->hours, wall.hour, 23);
		if (next < 0)
		{
			wall.day++;
			wall.hour = 0;
			wall.minute = 0;
			continue;
		}
		if (next != wall.hour)
		{
			wall.hour = next;
			wall.minute = 0;
		}

		next = NextBit(schedule->minutes, wall.minute, 59);
		if (next < 0)
		{
			wall.hour++;
			wall.minute = 0;
			continue;
		}
		wall.minute = next;

		if (ResolveWallTime(&wall, after, tz, &result))
			return result;

		/* skipped by a DST change: try the next minute */
		wall.minute++;
	}

	return DT_NOEND;
}

/*
 * NextRunInRepeatedHour: a job with a wildcard minute or hour, such as
 * '* * * * *' or a step on '*' in the minute field, runs on elapsed time
 * through the hour that repeats when the clocks go back, as pg_cron and
 * Vixie cron run such jobs: a clock change must not stop an every-minute
 * pipeline for an hour.  The wall-clock search skips the repeated
 * wall-clock times; when the UTC offset fell between 'after' and that
 * search's answer, the local minutes of the repeated stretch are tried
 * first.
 */
static TimestampTz
NextRunInRepeatedHour(const Schedule *schedule, TimestampTz after, pg_tz *tz,
					  TimestampTz wallClockNext)
{
	pg_time_t	afterSeconds;
	pg_time_t	nextSeconds;
	pg_time_t	low;
	pg_time_t	high;
	pg_time_t	candidate;
	pg_time_t	end;
	long		offsetBefore;
	long		offsetAfter;
	long		offset;

	if (TIMESTAMP_NOT_FINITE(wallClockNext) || tz == NULL)
		return wallClockNext;

	afterSeconds = TimestampToUnixSeconds(after);
	nextSeconds = TimestampToUnixSeconds(wallClockNext);
	if (!UtcOffsetAt(afterSeconds, tz, &offsetBefore) ||
		!UtcOffsetAt(nextSeconds, tz, &offsetAfter) ||
		offsetAfter >= offsetBefore)
		return wallClockNext;

	/* the moment the clocks went back: the first second with a new offset */
	low = afterSeconds;
	high = nextSeconds;
	while (high - low > 1)
	{
		pg_time_t	middle = low + (high - low) / 2;

		if (!UtcOffsetAt(middle, tz, &offset))
			return wallClockNext;
		if (offset == offsetBefore)
			low = middle;
		else
			high = middle;
	}

	/* the local minutes of the repeated stretch that come after 'after' */
	candidate = Max(high, afterSeconds + 1);
	end = Min(high + (offsetBefore - offsetAfter), nextSeconds);
	while (candidate < end)
	{
		struct pg_tm tm;

		if (!LocalTimeAt(candidate, tz, &tm))
			break;
		if (tm.tm_sec == 0 && WallTimeMatches(schedule, &tm))
			return time_t_to_timestamptz(candidate);
		candidate += SECS_PER_MINUTE - tm.tm_sec;
	}

	return wallClockNext;
}


/* WallTimeMatches: the schedule fires at this local minute */
static bool
WallTimeMatches(const Schedule *schedule, const struct pg_tm *tm)
{
	WallTime	wall = {
		.year = tm->tm_year + 1900,
		.month = tm->tm_mon + 1,
		.day = tm->tm_mday,
		.hour = tm->tm_hour,
		.minute = tm->tm_min,
	};

	return (schedule->minutes & (UINT64CONST(1) << wall.minute)) != 0 &&
		(schedule->hours & (((uint32) 1) << wall.hour)) != 0 &&
		(schedule->months & (1 << wall.month)) != 0 &&
		DayMatches(schedule, &wall);
}


/* UtcOffsetAt: the zone's offset from UTC at an instant, in seconds */
static bool
UtcOffsetAt(pg_time_t instant, pg_tz *tz, long *offset)
{
	struct pg_tm tm;

	if (!LocalTimeAt(instant, tz, &tm))
		return false;
	*offset = tm.tm_gmtoff;
	return true;
}


/* Whole seconds since the Unix epoch, rounding down before 1970 too */
static pg_time_t
TimestampToUnixSeconds(TimestampTz timestamp)
{
	pg_time_t	seconds = timestamp / USECS_PER_SEC;

	if (timestamp % USECS_PER_SEC < 0)
		seconds--;
	return seconds + (pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}


/*
 * DayMatches applies the cron day rule: when either day field was written
 * with '*', both must match; otherwise matching either is enough, so that
 * "0 0 1 * mon" means the 1st of the month and every Monday.
 */
static bool
DayMatches(const Schedule *schedule, const WallTime *wall)
{
	int			daysInMonth = day_tab[isleap(wall->year)][wall->month - 1];
	int			weekday = j2day(date2j(wall->year, wall->month, wall->day));
	bool		dayOfMonthMatches;
	bool		dayOfWeekMatches;

	dayOfMonthMatches = (schedule->daysOfMonth & (((uint32) 1) << wall->day)) != 0 ||
		(schedule->lastDayOfMonth && wall->day == daysInMonth);
	dayOfWeekMatches = (schedule->daysOfWeek & (1 << weekday)) != 0;

	if (schedule->dayOfMonthStar || schedule->dayOfWeekStar)
		return dayOfMonthMatches && dayOfWeekMatches;
	return dayOfMonthMatches || dayOfWeekMatches;
}

/*
 * NextBit returns the lowest N in [from, to] with bit N set, or -1.
 */
static int
NextBit(uint64 bits, int from, int to)
{
	for (int bit = from; bit <= to; bit++)
	{
		if (bits & (UINT64CONST(1) << bit))
			return bit;
	}
	return -1;
}

/*
 * ResolveWallTime finds the earliest instant after 'after' at which the
 * local time in tz reads exactly 'wall'.  Returns false when there is none
 * (the wall-clock time falls in a DST gap, or its instants are not after
 * 'after').
 *
 * Rather than trusting any one rule for gaps and overlaps, it tries the UTC
 * offsets in force some hours before, at and after the wall-clock reading
 * (at most one transition happens in that window in any real zone) and
 * keeps only the instants that really read as 'wall' locally.
 */
static bool
ResolveWallTime(const WallTime *wall, TimestampTz after, pg_tz *tz,
				TimestampTz *result)
{
	static const int probeOffsets[] = {-18 * SECS_PER_HOUR, 0, 18 * SECS_PER_HOUR};
	pg_time_t	wallAsUtc = WallTimeAsUtc(wall);
	TimestampTz best = DT_NOEND;

	for (int i = 0; i < (int) lengthof(probeOffsets); i++)
	{
		struct pg_tm tm;
		pg_time_t	candidate;
		TimestampTz candidateTimestamp;

		if (!LocalTimeAt(wallAsUtc + probeOffsets[i], tz, &tm))
			continue;
		candidate = wallAsUtc - tm.tm_gmtoff;

		if (!LocalTimeAt(candidate, tz, &tm) ||
			tm.tm_year + 1900 != wall->year ||
			tm.tm_mon + 1 != wall->month ||
			tm.tm_mday != wall->day ||
			tm.tm_hour != wall->hour ||
			tm.tm_min != wall->minute ||
			tm.tm_sec != 0)
			continue;

		candidateTimestamp = time_t_to_timestamptz(candidate);
		if (candidateTimestamp <= after)
			continue;
		if (candidateTimestamp < best)
			best = candidateTimestamp;
	}

	*result = best;
	return best != DT_NOEND;
}

/*
 * LocalTimeAt copies out the local time of an instant (pg_localtime()
 * returns a static buffer).  A NULL tz means UTC.
 */
static bool
LocalTimeAt(pg_time_t instant, pg_tz *tz, struct pg_tm *tm)
{
	struct pg_tm *local;

	local = (tz != NULL) ? pg_localtime(&instant, tz) : pg_gmtime(&instant);
	if (local == NULL)
		return false;
	*tm = *local;
	return true;
}

/*
 * WallTimeAsUtc returns the Unix time at which a UTC clock would read
 * 'wall'; the local instant differs from it by the zone's UTC offset.
 */
static pg_time_t
WallTimeAsUtc(const WallTime *wall)
{
	return (pg_time_t) (date2j(wall->year, wall->month, wall->day) - UNIX_EPOCH_JDATE) * SECS_PER_DAY +
		wall->hour * SECS_PER_HOUR + wall->minute * SECS_PER_MINUTE;
}
