/*-------------------------------------------------------------------------
 *
 * schedule_parse.c
 *	  Parsing pipeline schedules: cron expressions and intervals.
 *
 * Two notations share the schedule column.  Cron expressions keep the
 * pg_cron grammar so that existing pg_cron jobs can be moved over as they
 * are; intervals ('10 seconds', '5 minutes', ...) cover the common "every so
 * often" case without the minute resolution of cron.  Which of the two a
 * text is meant to be is decided from its shape before either parser runs,
 * so that the error a user sees talks about the notation they had in mind.
 *
 * The parser never throws for bad input (it is called by a CHECK
 * constraint and by the scheduler's main loop, neither of which should die
 * on a typo), and every loop is bounded by the input length.
 *
 * Error messages are lower-case sentence fragments without a final period,
 * so that callers can embed them ("...: minute field: 60 is out of range
 * 0-59") or turn them into an errdetail sentence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/datetime.h"

#include "scheduler/schedule.h"


/*
 * No legitimate schedule comes near this; the limit keeps error messages,
 * which quote the schedule, to a sane size.
 */
#define MAX_SCHEDULE_LENGTH 1024

/* How much of an offending piece of text to quote in an error message */
#define MAX_QUOTED_LENGTH 40

/* Characters that may appear in the minute and hour fields of a cron line */
#define CRON_NUMERIC_CHARS "0123456789*,-/"

#define WHITESPACE " \t\n\r\f\v"

typedef struct CronFieldSpec
{
	const char *label;			/* used in error messages */
	int			low;
	int			high;
	const char *const *names;	/* three-letter aliases, or NULL */
	int			firstNameValue; /* value that names[0] stands for */
	const char *nameKind;		/* "month" or "day", for error messages */
	const char *lastName;		/* last of the names, for error messages */
} CronFieldSpec;

static const char *const MonthNames[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const DayNames[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

enum
{
	FIELD_MINUTE,
	FIELD_HOUR,
	FIELD_DAY_OF_MONTH,
	FIELD_MONTH,
	FIELD_DAY_OF_WEEK,
	CRON_FIELD_COUNT
};

static const CronFieldSpec CronFields[CRON_FIELD_COUNT] = {
	{"minute", 0, 59, NULL, 0, NULL, NULL},
	{"hour", 0, 23, NULL, 0, NULL, NULL},
	{"day-of-month", 1, 31, NULL, 0, NULL, NULL},
	{"month", 1, 12, MonthNames, 1, "month", "dec"},
	/* 7 is accepted as a second spelling of Sunday */
	{"day-of-week", 0, 7, DayNames, 0, "day", "sat"},
};

static bool ParseMacro(const char *text, int len, Schedule *schedule,
					   char **errorMessage);
static bool ParseCron(const char *text, int len, Schedule *schedule,
					  char **errorMessage);
static bool ParseCronField(const char *text, int len, int fieldNumber,
						   uint64 *bits, bool *lastDay, char **errorMessage);
static bool ParseCronValue(const char *text, int len, int *pos,
						   const CronFieldSpec *spec, int *value,
						   char **errorMessage);
static bool ParseInterval(const char *text, int len, int64 *intervalUsecs,
						  char **errorMessage);
static bool LooksLikeInterval(const char *text, int len);
static bool HasOnlyIntervalCharacters(const char *text, int len);
static int	CountFields(const char *text, int len);
static bool IsSpace(char c);
static char *Clip(const char *text, int len);
static char *Quote(const char *text, int len);
static char *DescribeUnexpected(const char *text, int len, int pos);
static void SetDailyDefaults(Schedule *schedule);



/*
 * ParseSchedule parses schedule text; see schedule.h.
 *
 * Leading and trailing white space is ignored.  Text starting with '@' is a
 * macro.  Otherwise the text is an interval when its first two words could
 * not start a cron line (a cron line's minute and hour fields hold only
 * digits and * , - /), as in '10 seconds', '1.5 hours', '00:00:30' or
 * 'PT10S'; anything else is read as a cron expression.
 */
bool
ParseSchedule(const char *text, Schedule *schedule, char **errorMessage)
{
	int			start = 0;
	int			end;
	size_t		fullLength;

	memset(schedule, 0, sizeof(Schedule));
	*errorMessage = NULL;

	if (text == NULL)
	{
		*errorMessage = pstrdup("schedule is null");
		return false;
	}

	fullLength = strlen(text);
	if (fullLength > MAX_SCHEDULE_LENGTH)
	{
		*errorMessage = psprintf("schedule is %zu bytes long, more than the limit of %d",
								 fullLength, MAX_SCHEDULE_LENGTH);
		return false;
	}

	end = (int) fullLength;
	while (start < end && IsSpace(text[start]))
		start++;
	while (end > start && IsSpace(text[end - 1]))
		end--;

	if (start == end)
	{
		*errorMessage = pstrdup("schedule is empty");
		return false;
	}

	text += start;
	end -= start;

	/*
	 * No schedule has a use for non-ASCII characters, and some of them look
	 * like spaces or digits; name them before they confuse the field count.
	 */
	for (int pos = 0; pos < end; pos++)
	{
		if ((unsigned char) text[pos] >= 0x80)
		{
			int			wordStart = pos;
			int			wordEnd = pos;

			while (wordStart > 0 && !IsSpace(text[wordStart - 1]))
				wordStart--;
			while (wordEnd < end && !IsSpace(text[wordEnd]))
				wordEnd++;
			*errorMessage = psprintf("unexpected non-ASCII character in %s",
									 Quote(text + wordStart, wordEnd - wordStart));
			return false;
		}
	}

	if (text[0] == '@')
		return ParseMacro(text, end, schedule, errorMessage);

	if (LooksLikeInterval(text, end))
	{
		if (ParseInterval(text, end, &schedule->intervalUsecs, errorMessage))
		{
			schedule->kind = SCHEDULE_INTERVAL;
			return true;
		}

		/*
		 * Five words that are not an interval were most likely meant as a
		 * cron line with a mistake in it; say what the mistake is.
		 */
		if (CountFields(text, end) == CRON_FIELD_COUNT)
			return ParseCron(text, end, schedule, errorMessage);

		return false;
	}

	return ParseCron(text, end, schedule, errorMessage);
}

/*
 * ScheduleFormsHint returns the errhint() text listing the accepted forms.
 */
const char *
ScheduleFormsHint(void)
{
	return "Use a cron expression such as '*/5 * * * *' or '@hourly', "
		"an interval such as '10 seconds' or '5 minutes', "
		"or NULL to run only by hand.";
}


/*
 * ParseMacro handles the '@' shorthands.  They expand to the same field
 * sets a cron user would write by hand, so that evaluation needs no special
 * cases beyond @reboot.
 */
static bool
ParseMacro(const char *text, int len, Schedule *schedule, char **errorMessage)
{
	int			wordEnd = 1;
	char	   *word;

	while (wordEnd < len && !IsSpace(text[wordEnd]))
		wordEnd++;

	word = pnstrdup(text, wordEnd);
	schedule->kind = SCHEDULE_CRON;
	SetDailyDefaults(schedule);

	if (pg_strcasecmp(word, "@reboot") == 0)
	{
		/* no fields: ScheduleNextRun() looks at atStartup alone */
		memset(schedule, 0, sizeof(Schedule));
		schedule->kind = SCHEDULE_CRON;
		schedule->atStartup = true;
	}
	else if (pg_strcasecmp(word, "@yearly") == 0 ||
			 pg_strcasecmp(word, "@annually") == 0)
	{
		/* 0 0 1 1 * */
		schedule->daysOfMonth = ((uint32) 1) << 1;
		schedule->dayOfMonthStar = false;
		schedule->months = 1 << 1;
	}
	else if (pg_strcasecmp(word, "@monthly") == 0)
	{
		/* 0 0 1 * * */
		schedule->daysOfMonth = ((uint32) 1) << 1;
		schedule->dayOfMonthStar = false;
	}
	else if (pg_strcasecmp(word, "@weekly") == 0)
	{
		/* 0 0 * * 0 */
		schedule->daysOfWeek = 1 << 0;
		schedule->dayOfWeekStar = false;
	}
	else if (pg_strcasecmp(word, "@daily") == 0 ||
			 pg_strcasecmp(word, "@midnight") == 0)
	{
		/* 0 0 * * * */
	}
	else if (pg_strcasecmp(word, "@hourly") == 0)
	{
		/* 0 * * * * */
		schedule->hours = 0xFFFFFF;
		schedule->wildcardTime = true;
	}
	else
	{
		memset(schedule, 0, sizeof(Schedule));
		*errorMessage = psprintf("unknown macro %s; the macros are @yearly, @annually, "
								 "@monthly, @weekly, @daily, @midnight, @hourly and @reboot",
								 Quote(text, wordEnd));
		return false;
	}

	/* ParseSchedule() trimmed the text, so anything left is a second word */
	if (wordEnd < len)
	{
		memset(schedule, 0, sizeof(Schedule));
		*errorMessage = psprintf("unexpected text after %s", Quote(text, wordEnd));
		return false;
	}

	return true;
}

/*
 * SetDailyDefaults fills in "0 0 * * *", the starting point of the macros.
 */
static void
SetDailyDefaults(Schedule *schedule)
{
	schedule->minutes = UINT64CONST(1);
	schedule->hours = 1;
	schedule->daysOfMonth = 0xFFFFFFFE;	/* 1-31 */
	schedule->months = 0x1FFE;	/* 1-12 */
	schedule->daysOfWeek = 0x7F;	/* 0-6 */
	schedule->dayOfMonthStar = true;
	schedule->dayOfWeekStar = true;
}

/*
 * ParseCron parses a five-field cron expression.
 */
static bool
ParseCron(const char *text, int len, Schedule *schedule, char **errorMessage)
{
	uint64		fieldBits[CRON_FIELD_COUNT];
	int			fieldCount = CountFields(text, len);
	int			pos = 0;

	if (fieldCount != CRON_FIELD_COUNT)
	{
		*errorMessage = psprintf("a cron expression has 5 fields (minute hour "
								 "day-of-month month day-of-week), but this one has %d",
								 fieldCount);
		return false;
	}

	schedule->kind = SCHEDULE_CRON;

	for (int field = 0; field < CRON_FIELD_COUNT; field++)
	{
		int			fieldStart;

		while (pos < len && IsSpace(text[pos]))
			pos++;
		fieldStart = pos;
		while (pos < len && !IsSpace(text[pos]))
			pos++;

		if (!ParseCronField(text + fieldStart, pos - fieldStart, field,
							&fieldBits[field],
							field == FIELD_DAY_OF_MONTH ? &schedule->lastDayOfMonth : NULL,
							errorMessage))
		{
			memset(schedule, 0, sizeof(Schedule));
			return false;
		}

		/*
		 * Like pg_cron (and Vixie cron before it), a day field counts as '*'
		 * for the AND-versus-OR rule whenever it starts with '*', so '*' and
		 * '*' with a step behave the same way.
		 */
		if (field == FIELD_DAY_OF_MONTH)
			schedule->dayOfMonthStar = (text[fieldStart] == '*');
		else if (field == FIELD_DAY_OF_WEEK)
			schedule->dayOfWeekStar = (text[fieldStart] == '*');

		/* the same rule picks the jobs that run through a clock change */
		if ((field == FIELD_MINUTE || field == FIELD_HOUR) && text[fieldStart] == '*')
			schedule->wildcardTime = true;
	}

	schedule->minutes = fieldBits[FIELD_MINUTE];
	schedule->hours = (uint32) fieldBits[FIELD_HOUR];
	schedule->daysOfMonth = (uint32) fieldBits[FIELD_DAY_OF_MONTH];
	schedule->months = (uint16) fieldBits[FIELD_MONTH];

	/* Sunday may be written 0 or 7; the struct only knows 0 */
	if (fieldBits[FIELD_DAY_OF_WEEK] & (UINT64CONST(1) << 7))
		fieldBits[FIELD_DAY_OF_WEEK] |= UINT64CONST(1);
	schedule->daysOfWeek = (uint8) (fieldBits[FIELD_DAY_OF_WEEK] & 0x7F);

	return true;
}

/*
 * ParseCronField parses one field: a comma-separated list of elements, each
 * '*', a value or a range of values, optionally followed by /step.  Sets
 * bit N of *bits for every value N the field matches.  lastDay is non-NULL
 * only for the day-of-month field, the one place '$' is allowed.
 */
static bool
ParseCronField(const char *text, int len, int fieldNumber, uint64 *bits,
			   bool *lastDay, char **errorMessage)
{
	const CronFieldSpec *spec = &CronFields[fieldNumber];
	int			pos = 0;

	*bits = 0;

	/* every pass consumes at least one character or returns */
	while (pos < len)
	{
		int			elementStart = pos;
		int			first;
		int			last;
		int			step = 1;
		bool		single = false;

		if (text[pos] == ',')
		{
			*errorMessage = psprintf("%s field: empty list element in %s",
									 spec->label, Quote(text, len));
			return false;
		}

		if (text[pos] == '$')
		{
			if (lastDay == NULL)
			{
				*errorMessage = psprintf("%s field: \"$\" (the last day of the month) "
										 "is only allowed in the day-of-month field",
										 spec->label);
				return false;
			}
			pos++;
			if (pos < len && (text[pos] == '-' || text[pos] == '/'))
			{
				*errorMessage = psprintf("%s field: \"$\" (the last day of the month) "
										 "cannot be part of a range or have a step",
										 spec->label);
				return false;
			}
			*lastDay = true;
			/* no bits: DayMatches() knows which day is the last */
			first = 1;
			last = 0;
		}
		else if (text[pos] == '*')
		{
			first = spec->low;
			last = spec->high;
			pos++;
		}
		else
		{
			if (!ParseCronValue(text, len, &pos, spec, &first, errorMessage))
				return false;

			if (pos < len && text[pos] == '-')
			{
				pos++;
				if (pos < len && text[pos] == '$' && lastDay != NULL)
				{
					*errorMessage = psprintf("%s field: \"$\" (the last day of the month) "
											 "cannot be part of a range or have a step",
											 spec->label);
					return false;
				}
				if (!ParseCronValue(text, len, &pos, spec, &last, errorMessage))
					return false;

				/* "fri-sun" reads naturally; let a range end on Sunday as 7 */
				if (fieldNumber == FIELD_DAY_OF_WEEK && last == 0 && first > 0)
					last = 7;

				if (first > last)
				{
					*errorMessage = psprintf("%s field: range %s goes backwards; "
											 "write ranges from low to high",
											 spec->label,
											 Quote(text + elementStart, pos - elementStart));
					return false;
				}
			}
			else
			{
				last = first;
				single = true;
			}
		}

		if (pos < len && text[pos] == '/')
		{
			int			stepStart;
			int			span = spec->high - spec->low + 1;

			pos++;
			stepStart = pos;
			while (pos < len && text[pos] >= '0' && text[pos] <= '9')
				pos++;

			if (pos == stepStart)
			{
				*errorMessage = psprintf("%s field: a step needs a number after \"/\" in %s",
										 spec->label,
										 Quote(text + elementStart, len - elementStart));
				return false;
			}

			if (pos - stepStart > 4)
				step = PG_INT32_MAX;
			else
				step = atoi(pnstrdup(text + stepStart, pos - stepStart));

			if (step < 1 || step > span)
			{
				*errorMessage = psprintf("%s field: step %s is out of range 1-%d",
										 spec->label,
										 Clip(text + stepStart, pos - stepStart),
										 span);
				return false;
			}

			if (single)
			{
				/*
				 * pg_cron rejects "5/10"; other crons read it as "5-59/10".
				 * Refuse it, but say what was probably meant.
				 */
				*errorMessage = psprintf("%s field: a step needs \"*\" or a range before it, "
										 "as in \"*/%d\" or \"%d-%d/%d\"",
										 spec->label, step, first, spec->high, step);
				return false;
			}
		}

		if (pos < len && text[pos] != ',')
		{
			*errorMessage = psprintf("%s field: %s",
									 spec->label,
									 DescribeUnexpected(text, len, pos));
			return false;
		}

		for (int value = first; value <= last; value += step)
			*bits |= UINT64CONST(1) << value;

		if (pos < len)
		{
			/* skip the comma; a trailing one leaves an empty element */
			pos++;
			if (pos == len)
			{
				*errorMessage = psprintf("%s field: empty list element in %s",
										 spec->label, Quote(text, len));
				return false;
			}
		}
	}

	return true;
}

/*
 * ParseCronValue reads one number or name at text[*pos] and advances *pos
 * past it.  The value is range-checked against the field.
 */
static bool
ParseCronValue(const char *text, int len, int *pos,
			   const CronFieldSpec *spec, int *value, char **errorMessage)
{
	int			start = *pos;
	int			end = start;
	bool		allDigits = true;

	while (end < len &&
		   ((text[end] >= '0' && text[end] <= '9') ||
			(text[end] >= 'a' && text[end] <= 'z') ||
			(text[end] >= 'A' && text[end] <= 'Z')))
	{
		if (text[end] < '0' || text[end] > '9')
			allDigits = false;
		end++;
	}

	if (end == start)
	{
		if (start >= len)
			*errorMessage = psprintf("%s field: a value is missing at the end of %s",
									 spec->label, Quote(text, len));
		else
			*errorMessage = psprintf("%s field: %s",
									 spec->label,
									 DescribeUnexpected(text, len, start));
		return false;
	}

	*pos = end;

	if (allDigits)
	{
		/* more than four digits cannot be in range; avoid any overflow */
		int			number = (end - start > 4) ? PG_INT32_MAX :
		atoi(pnstrdup(text + start, end - start));

		if (number < spec->low || number > spec->high)
		{
			*errorMessage = psprintf("%s field: %s is out of range %d-%d",
									 spec->label, Clip(text + start, end - start),
									 spec->low, spec->high);
			return false;
		}
		*value = number;
		return true;
	}

	if (spec->names != NULL && end - start == 3)
	{
		char		name[4];

		memcpy(name, text + start, 3);
		name[3] = '\0';
		for (int i = 0; spec->names[i] != NULL; i++)
		{
			if (pg_strcasecmp(name, spec->names[i]) == 0)
			{
				*value = spec->firstNameValue + i;
				return true;
			}
		}
	}

	if (spec->names != NULL)
		*errorMessage = psprintf("%s field: %s is neither a number nor a %s name (%s-%s)",
								 spec->label, Quote(text + start, end - start),
								 spec->nameKind, spec->names[0],
								 spec->lastName);
	else
		*errorMessage = psprintf("%s field: %s is not a number",
								 spec->label, Quote(text + start, end - start));
	return false;
}

/*
 * ParseInterval reads interval text with PostgreSQL's own interval input
 * routines, called directly because interval_in() throws on bad input.
 * Only lengths that are the same every time are accepted: days count as
 * 24 hours, while months and years are refused.
 */
static bool
ParseInterval(const char *text, int len, int64 *intervalUsecs,
			  char **errorMessage)
{
	char	   *str = pnstrdup(text, len);
	char		workbuf[256];
	char	   *fields[MAXDATEFIELDS];
	int			fieldTypes[MAXDATEFIELDS];
	int			fieldCount = 0;
	int			dtype = 0;
	struct pg_itm_in itm;
	int			dterr;
	int			savedIntervalStyle = IntervalStyle;
	int64		dayUsecs;
	int64		usecs;

	memset(&itm, 0, sizeof(itm));

	if (!HasOnlyIntervalCharacters(text, len))
		dterr = DTERR_BAD_FORMAT;
	else
	{
		/*
		 * The sql_standard style reads a leading minus sign as applying to
		 * every field.  Validation backs an IMMUTABLE CHECK constraint, so
		 * the answer must not depend on the session: decode as the default
		 * style would.  Nothing between here and the restore can throw.
		 */
		IntervalStyle = INTSTYLE_POSTGRES;
		dterr = ParseDateTime(str, workbuf, sizeof(workbuf), fields, fieldTypes,
							  MAXDATEFIELDS, &fieldCount);
		if (dterr == 0)
			dterr = DecodeInterval(fields, fieldTypes, fieldCount,
								   INTERVAL_FULL_RANGE, &dtype, &itm);
		if (dterr == DTERR_BAD_FORMAT)
		{
			/* the same fallback interval_in() uses, for 'PT10S' and the like */
			memset(&itm, 0, sizeof(itm));
			dterr = DecodeISO8601Interval(str, &dtype, &itm);
		}
		IntervalStyle = savedIntervalStyle;
	}

	if (dterr == DTERR_FIELD_OVERFLOW || dterr == DTERR_INTERVAL_OVERFLOW)
	{
		*errorMessage = psprintf("interval %s is out of range", Quote(text, len));
		return false;
	}
	if (dterr != 0 || dtype != DTK_DELTA)
	{
		if ((text[0] >= '0' && text[0] <= '9') ||
			text[0] == '.' || text[0] == '+' || text[0] == '-')
			*errorMessage = psprintf("%s is not a valid interval",
									 Quote(text, len));
		else
			*errorMessage = psprintf("%s is neither a cron expression nor an interval",
									 Quote(text, len));
		return false;
	}

	if (itm.tm_mon != 0 || itm.tm_year != 0)
	{
		*errorMessage = pstrdup("an interval schedule cannot use months or years, "
								"whose length varies; use a cron expression such as "
								"'0 0 1 * *' instead");
		return false;
	}

	if (pg_mul_s64_overflow((int64) itm.tm_mday, USECS_PER_DAY, &dayUsecs) ||
		pg_add_s64_overflow(dayUsecs, itm.tm_usec, &usecs))
	{
		*errorMessage = psprintf("interval %s is out of range", Quote(text, len));
		return false;
	}

	if (usecs <= 0)
	{
		*errorMessage = psprintf("interval %s is not greater than zero",
								 Quote(text, len));
		return false;
	}

	if (usecs < 1000)
	{
		*errorMessage = psprintf("interval %s is shorter than the minimum of 1 millisecond",
								 Quote(text, len));
		return false;
	}

	*intervalUsecs = usecs;
	return true;
}

/*
 * LooksLikeInterval decides whether text is meant as an interval: true when
 * one of its first two words holds a character that the minute and hour
 * fields of a cron line never do (a letter, ':', '.', '+').
 */
static bool
LooksLikeInterval(const char *text, int len)
{
	int			pos = 0;

	for (int word = 0; word < 2; word++)
	{
		while (pos < len && IsSpace(text[pos]))
			pos++;
		while (pos < len && !IsSpace(text[pos]))
		{
			if (strchr(CRON_NUMERIC_CHARS, text[pos]) == NULL)
				return true;
			pos++;
		}
	}

	return false;
}

/*
 * HasOnlyIntervalCharacters checks that text uses nothing but the
 * characters of interval notation.  The interval reader skips punctuation
 * it does not know, so without this it would take "1.5 * * * *" for 1.5
 * seconds.
 */
static bool
HasOnlyIntervalCharacters(const char *text, int len)
{
	for (int pos = 0; pos < len; pos++)
	{
		char		c = text[pos];

		if (!((c >= '0' && c <= '9') ||
			  (c >= 'a' && c <= 'z') ||
			  (c >= 'A' && c <= 'Z') ||
			  IsSpace(c) || strchr(".:+-", c) != NULL))
			return false;
	}

	return true;
}

/*
 * CountFields counts the white-space separated words of text.
 */
static int
CountFields(const char *text, int len)
{
	int			count = 0;
	int			pos = 0;

	while (pos < len)
	{
		while (pos < len && IsSpace(text[pos]))
			pos++;
		if (pos == len)
			break;
		count++;
		while (pos < len && !IsSpace(text[pos]))
			pos++;
	}

	return count;
}

/* Locale-independent, and false for the terminating NUL */
static bool
IsSpace(char c)
{
	return c != '\0' && strchr(WHITESPACE, c) != NULL;
}

/*
 * Clip returns a copy of text, shortened (without splitting a multibyte
 * character) and marked with "..." when it is too long to quote in full.
 */
static char *
Clip(const char *text, int len)
{
	int			keep;

	if (len <= MAX_QUOTED_LENGTH)
		return pnstrdup(text, len);

	keep = pg_mbcliplen(text, len, MAX_QUOTED_LENGTH - 3);
	return psprintf("%s...", pnstrdup(text, keep));
}

/* Clip, in double quotes */
static char *
Quote(const char *text, int len)
{
	return psprintf("\"%s\"", Clip(text, len));
}

/*
 * DescribeUnexpected words an error for the character at text[pos] that
 * has no place there, quoting the field it appears in.
 */
static char *
DescribeUnexpected(const char *text, int len, int pos)
{
	unsigned char c = (unsigned char) text[pos];

	if (c > 0x20 && c < 0x7F)
		return psprintf("unexpected character \"%c\" in %s", c, Quote(text, len));
	if (c >= 0x80)
		return psprintf("unexpected non-ASCII character in %s", Quote(text, len));
	return psprintf("unexpected control character 0x%02X", c);
}
