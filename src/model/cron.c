/*-------------------------------------------------------------------------
 *
 * cron.c
 *	  Parser and evaluator of the cron expressions that schedule migrations.
 *
 * The syntax is the classic five fields, separated by white space:
 *
 *	 minute (0-59)  hour (0-23)  day of month (1-31)  month (1-12 or jan-dec)
 *	 day of week (0-7 or sun-sat; 0 and 7 are both Sunday)
 *
 * Each field is a comma-separated list of items, and an item is "*", a
 * value "a", a range "a-b", or one of those with a step: "*" or "a-b" then
 * "/n" takes every n-th value, and "a" then "/n" means "a" up to the end of
 * the field.  Names are three letters, case-insensitive, and may appear
 * wherever a number may, except in a step.  The macros @yearly (or
 * @annually), @monthly, @weekly, @daily (or @midnight) and @hourly stand for
 * the usual expressions.  Anything else is an error that names the field
 * and the offending list item: we would rather refuse a schedule than run a
 * migration at a time nobody meant.  In particular there is no sixth field
 * for seconds or years, ranges do not wrap around ("fri-mon"), and
 * "@reboot" has no meaning for a scheduler that runs by the clock.
 *
 * Day of month and day of week combine as in Vixie cron (and so pg_cron):
 * if either field starts with "*", a day must match both; if neither does,
 * it must match either.  So "0 0 13 * 5" fires on every 13th and on every
 * Friday, not on Friday the 13th.
 *
 * The fields are wall-clock time in a time zone given by name, resolved
 * with PostgreSQL's own time zone code so that the answers agree with
 * AT TIME ZONE.  A daylight-saving change creates two awkward cases: local
 * times that never happen (the spring-forward gap) do not fire at all, and
 * local times that happen twice (the fall-back overlap) fire once, at the
 * first occurrence, so a job is never run twice for one scheduled time.
 *
 * IDENTIFICATION
 *	  src/model/cron.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/*
 * How far ahead cron_next_after looks before it gives up.  The
 * weekday calendar repeats every 28 years (between century years that are
 * not leap years), so an expression that has no match in that window,
 * such as "0 0 30 2 *", never fires at all.
 */
#define MIGRATE_CRON_SEARCH_YEARS 28

/*
 * A parsed expression.  Each field is a bitset: bit n is set when value n
 * matches.  The struct holds no pointers, so it can be copied freely,
 * e.g. into shared memory or a long-lived context.
 */
typedef struct CronSpec
{
	uint64		minute;			/* bits 0-59 */
	uint32		hour;			/* bits 0-23 */
	uint32		day_of_month;	/* bits 1-31 */
	uint16		month;			/* bits 1-12 */
	uint8		day_of_week;	/* bits 0-6, Sunday = 0 (7 is folded into 0) */

	/*
	 * Whether the day-of-month / day-of-week field started with "*" (a
	 * bare "*", or "*" with a step).  When neither did, a day matches if
	 * EITHER field matches; otherwise both must (Vixie cron's rule).
	 */
	bool		dom_star;
	bool		dow_star;
} CronSpec;

PG_FUNCTION_INFO_V1(migrate_cron_next);

/* what we know about each of the five fields */
typedef struct CronField
{
	const char *noun;			/* "day of month", for messages */
	int			min;			/* smallest value accepted */
	int			max;			/* largest value accepted */
	int			star_max;		/* largest value "*" and "a/n" reach */
	const char *const *names;	/* three-letter names, or NULL */
	int			name_base;		/* value of names[0] */
	const char *range_detail;	/* errdetail for an out-of-range value */
} CronField;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/*
 * Day of week accepts 7 for Sunday, because both conventions are common;
 * "*" stops at 6 so that "*" followed by a step counts Sunday once.
 */
static const CronField cron_fields[5] = {
	{"minute", 0, 59, 59, NULL, 0,
	"Minutes run from 0 to 59."},
	{"hour", 0, 23, 23, NULL, 0,
	"Hours run from 0 to 23."},
	{"day of month", 1, 31, 31, NULL, 0,
	"Days of the month run from 1 to 31."},
	{"month", 1, 12, 12, month_names, 1,
	"Months run from 1 to 12, or jan to dec."},
	{"day of week", 0, 7, 6, day_names, 0,
	"Days of the week run from 0 to 7 (0 and 7 are both Sunday), or sun to sat."},
};

#define CRON_FIELD_MINUTE	0
#define CRON_FIELD_DOM		2
#define CRON_FIELD_DOW		4

/* the macros, expanded into the five fields */
typedef struct CronMacro
{
	const char *name;
	const char *expansion;
} CronMacro;

static const CronMacro cron_macros[] = {
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
	{"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* the list item being parsed, so that errors can quote it */
typedef struct CronItem
{
	const char *expression;		/* the whole expression */
	const CronField *field;
	const char *start;			/* the item, not NUL-terminated */
	const char *end;
} CronItem;

static void parse_fields(const char *expression, const char *text, CronSpec *spec);
static uint64 parse_field(const char *expression, const CronField *field,
						  const char *start, const char *end);
static uint64 parse_item(CronItem *item);
static int	parse_value(CronItem *item, const char **p);
static void item_error(const CronItem *item, const char *detail,
					   const char *hint) pg_attribute_noreturn();
static void expected_error(const CronItem *item, const char *p,
						   const char *what) pg_attribute_noreturn();
static char *range_text(int a, int b);
static bool is_digit(char c);
static bool is_word_char(char c);
static bool is_cron_space(char c);
static int	next_bit(uint64 set, int from);
static bool day_matches(const CronSpec *spec, int year, int month, int mday);
static bool local_to_utc(int year, int month, int mday, int hour, int minute,
						 pg_tz *tz, TimestampTz *result);
static bool is_wall_time(TimestampTz t, const struct pg_tm *want, pg_tz *tz);


/*
 * cron_parse
 *		Parse a cron expression or macro into spec; ERROR if it is invalid.
 */
static void
cron_parse(const char *expression, CronSpec *spec)
{
	const char *p = expression;
	const char *word_end;
	bool		is_reboot;
	int			i;

	memset(spec, 0, sizeof(CronSpec));

	while (is_cron_space(*p))
		p++;
	if (*p != '@')
	{
		parse_fields(expression, p, spec);
		return;
	}

	/*
	 * A macro must be the whole expression: "@daily 5" is more likely a
	 * misunderstanding than something we should guess the meaning of.
	 */
	word_end = p;
	while (*word_end != '\0' && !is_cron_space(*word_end))
		word_end++;
	for (const char *q = word_end; *q != '\0'; q++)
	{
		if (!is_cron_space(*q))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid cron expression \"%s\"", expression),
					 errdetail("A macro such as \"%.*s\" must be the whole expression.",
							   (int) (word_end - p), p)));
	}

	for (i = 0; i < lengthof(cron_macros); i++)
	{
		if (strlen(cron_macros[i].name) == (size_t) (word_end - p) &&
			pg_strncasecmp(cron_macros[i].name, p, word_end - p) == 0)
		{
			parse_fields(cron_macros[i].expansion, cron_macros[i].expansion,
						 spec);
			return;
		}
	}

	/* vixie cron's @reboot is the one macro that is not a time */
	is_reboot = (word_end - p == 7 && pg_strncasecmp(p, "@reboot", 7) == 0);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid cron expression \"%s\"", expression),
			 is_reboot ?
			 errdetail("The macro \"@reboot\" is not supported, because schedules run by the clock.") :
			 errdetail("\"%.*s\" is not a known macro.", (int) (word_end - p), p),
			 errhint("The macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly.")));
}

/*
 * parse_fields
 *		Split text (which starts at the first non-space of expression) into
 *		exactly five fields and parse each one into spec.
 */
static void
parse_fields(const char *expression, const char *text, CronSpec *spec)
{
	const char *starts[5];
	const char *ends[5];
	int			nfields = 0;
	const char *p = text;
	uint64		dow;

	/* count every field, even past five, so the message can say how many */
	for (;;)
	{
		while (is_cron_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (nfields < 5)
			starts[nfields] = p;
		while (*p != '\0' && !is_cron_space(*p))
			p++;
		if (nfields < 5)
			ends[nfields] = p;
		nfields++;
	}

	if (nfields == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid cron expression \"%s\"", expression),
				 errdetail("The expression is empty."),
				 errhint("Write five fields: minute, hour, day of month, month and day of week.")));
	if (nfields != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid cron expression \"%s\"", expression),
				 errdetail("A cron expression has 5 fields (minute, hour, day of month, month and day of week), but this one has %d.",
						   nfields),
				 nfields > 5 ?
				 errhint("Fields for seconds or years are not supported.") : 0));

	spec->minute = parse_field(expression, &cron_fields[0], starts[0], ends[0]);
	spec->hour = (uint32) parse_field(expression, &cron_fields[1],
									  starts[1], ends[1]);
	spec->day_of_month = (uint32) parse_field(expression, &cron_fields[2],
											  starts[2], ends[2]);
	spec->month = (uint16) parse_field(expression, &cron_fields[3],
									   starts[3], ends[3]);

	/* Sunday may be written 7; from here on it is only ever 0 */
	dow = parse_field(expression, &cron_fields[4], starts[4], ends[4]);
	if (dow & (UINT64CONST(1) << 7))
		dow = (dow & ~(UINT64CONST(1) << 7)) | UINT64CONST(1);
	spec->day_of_week = (uint8) dow;

	/* Vixie cron looks only at the first character, and so do we */
	spec->dom_star = (*starts[CRON_FIELD_DOM] == '*');
	spec->dow_star = (*starts[CRON_FIELD_DOW] == '*');
}

/*
 * parse_field
 *		The bitset of one field: the union of its comma-separated items.
 */
static uint64
parse_field(const char *expression, const CronField *field,
			const char *start, const char *end)
{
	uint64		bits = 0;
	const char *p = start;

	for (;;)
	{
		CronItem	item;

		item.expression = expression;
		item.field = field;
		item.start = p;
		while (p < end && *p != ',')
			p++;
		item.end = p;

		/* "1,,2", ",1" and "1," all leave an item empty */
		if (item.start == item.end)
		{
			item.start = start;
			item.end = end;
			item_error(&item, "The list has an empty item.", NULL);
		}
		bits |= parse_item(&item);

		if (p == end)
			break;
		p++;					/* skip the comma */
	}
	return bits;
}

/*
 * parse_item
 *		The bitset of one list item: "*", "a" or "a-b", each optionally
 *		followed by "/step".
 */
static uint64
parse_item(CronItem *item)
{
	const CronField *field = item->field;
	const char *p = item->start;
	bool		star = false;
	bool		range = false;
	int			lo;
	int			hi;
	int			step = 1;
	uint64		bits = 0;

	if (*p == '*')
	{
		star = true;
		p++;
		lo = field->min;
		hi = field->star_max;
	}
	else
	{
		lo = parse_value(item, &p);
		hi = lo;
		if (p < item->end && *p == '-')
		{
			p++;
			range = true;
			hi = parse_value(item, &p);
		}
	}

	if (p < item->end && *p == '/')
	{
		/* the field's span bounds the step; one value more is pointless */
		int			span = field->star_max - field->min + 1;

		p++;
		if (p == item->end || !is_digit(*p))
			expected_error(item, p, "a number");
		step = 0;
		while (p < item->end && is_digit(*p))
		{
			/* saturate rather than overflow: any huge step is an error */
			if (step < 100000)
				step = step * 10 + (*p - '0');
			p++;
		}
		if (step < 1 || step > span)
			item_error(item,
					   psprintf("The step must be between 1 and %d.", span),
					   NULL);

		/* "a/n" runs from a to the end of the field */
		if (!star && !range)
		{
			/* "7/n" in day of week starts on Sunday, like "0/n" */
			if (lo > field->star_max)
				lo = field->min;
			hi = field->star_max;
		}
	}

	if (p < item->end)
		item_error(item,
				   psprintf("Unexpected \"%.*s\" after \"%.*s\".",
							(int) (item->end - p), p,
							(int) (p - item->start), item->start),
				   NULL);

	if (lo > hi)
	{
		const char *hint;

		/*
		 * Some crons wrap "22-2" around midnight; others reject it.  We
		 * reject it and spell out the list that means the wrap-around.
		 */
		if (field == &cron_fields[CRON_FIELD_DOW] && hi == 0)
			hint = psprintf("Write Sunday as 7 at the end of a range, as in \"%d-7\".",
							lo);
		else if (field == &cron_fields[CRON_FIELD_DOW] && lo == 7)
			hint = psprintf("Write Sunday as 0 at the start of a range, as in \"0-%d\".",
							hi);
		else
			hint = psprintf("Ranges do not wrap around; write two, as in \"%s,%s\".",
							range_text(lo, field->star_max),
							range_text(field->min, hi));
		item_error(item, "The range runs backwards.", hint);
	}

	for (int v = lo; v <= hi; v += step)
		bits |= UINT64CONST(1) << v;
	return bits;
}

/*
 * parse_value
 *		A number, or a name in the fields that have names, at *p; advances
 *		*p past it.
 */
static int
parse_value(CronItem *item, const char **p)
{
	const CronField *field = item->field;
	const char *s = *p;
	int			value = 0;

	if (s < item->end && is_digit(*s))
	{
		while (s < item->end && is_digit(*s))
		{
			/* saturate: "99999999999" is out of range, not a wrapped int */
			if (value < 100000)
				value = value * 10 + (*s - '0');
			s++;
		}
	}
	else if (field->names != NULL && s < item->end && is_word_char(*s))
	{
		const char *word = s;
		int			i;

		while (s < item->end && is_word_char(*s))
			s++;
		for (i = 0; field->names[i] != NULL; i++)
		{
			if (s - word == 3 && pg_strncasecmp(field->names[i], word, 3) == 0)
				break;
		}
		if (field->names[i] == NULL)
			item_error(item,
					   psprintf(field->names == month_names ?
								"\"%.*s\" is not a month name; the names are jan to dec." :
								"\"%.*s\" is not a day name; the names are sun to sat.",
								(int) (s - word), word),
					   NULL);
		*p = s;
		return field->name_base + i;
	}
	else
	{
		/* "*" only makes sense at the start of an item */
		const char *what;

		if (s == item->start)
			what = field->names ? "a number, a name or \"*\"" : "a number or \"*\"";
		else
			what = field->names ? "a number or a name" : "a number";
		expected_error(item, s, what);
	}

	if (value < field->min || value > field->max)
		item_error(item, field->range_detail, NULL);
	*p = s;
	return value;
}

/*
 * item_error
 *		Report a bad list item, naming its field and quoting it together
 *		with the whole expression.
 */
static void
item_error(const CronItem *item, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s \"%.*s\" in cron expression \"%s\"",
					item->field->noun, (int) (item->end - item->start),
					item->start, item->expression),
			 errdetail("%s", detail),
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/*
 * expected_error
 *		Report that something (what) was expected at p but not found.
 */
static void
expected_error(const CronItem *item, const char *p, const char *what)
{
	if (p == item->start)
		item_error(item, psprintf("Expected %s at the start.", what), NULL);
	item_error(item,
			   psprintf("Expected %s after \"%.*s\".", what,
						(int) (p - item->start), item->start),
			   NULL);
}

/* "a-b", or just "a" when the range has one value, for hints */
static char *
range_text(int a, int b)
{
	return a == b ? psprintf("%d", a) : psprintf("%d-%d", a, b);
}

/*
 * Character classes, in ASCII whatever the locale.  A word runs over
 * non-ASCII bytes too, so that a message quotes "lün" whole rather than
 * a part of a multibyte character.
 */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		IS_HIGHBIT_SET(c);
}

/* white space as the shell and crontab(5) see it */
static bool
is_cron_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}


/*
 * cron_next_after
 *		The first minute strictly after "after" at which spec fires in the
 *		named time zone.
 *
 * We walk local wall-clock time forward from "after", jumping straight to
 * the next matching month, hour and minute with bit operations and
 * stepping through days one at a time, so a typical expression costs a few
 * dozen iterations and an impossible one a few thousand.  Each matching
 * wall time is then turned into an instant; the walk goes on past wall
 * times that do not exist, and past the first occurrence of a repeated
 * wall time when "after" lies between its two occurrences.
 */
static TimestampTz
cron_next_after(const CronSpec *spec, TimestampTz after, const char *timezone)
{
	pg_tz	   *tz;
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;
	int			year;
	int			month;
	int			mday;
	int			hour;
	int			minute;
	int			last_year;

	tz = pg_tzset(timezone);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", timezone),
				 errhint("Use a name from pg_timezone_names, such as \"Europe/Berlin\" or \"UTC\".")));
	/* the same check SET timezone makes */
	if (!pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" appears to use leap seconds", timezone),
				 errdetail("PostgreSQL does not support leap seconds.")));

	/* there is no first minute after -infinity, and none after infinity */
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot compute the next cron time after %s",
						TIMESTAMP_IS_NOBEGIN(after) ? "-infinity" : "infinity")));

	if (timestamp2tm(after, &offset, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));

	/*
	 * Start at the local minute after the one "after" falls in.  Whatever
	 * the seconds, that minute began at or before "after", so it cannot be
	 * the answer; any earlier wall time cannot be either.
	 */
	year = tm.tm_year;
	month = tm.tm_mon;
	mday = tm.tm_mday;
	hour = tm.tm_hour;
	minute = tm.tm_min + 1;
	last_year = year + MIGRATE_CRON_SEARCH_YEARS;

	/*
	 * Each branch either moves to a later wall time (carrying into the
	 * larger units lazily: minute 60 finds no bit and moves on to the next
	 * hour, day 32 is past the month's end, and so on) or returns.
	 */
	for (;;)
	{
		int			next;
		TimestampTz result;

		if (year > last_year)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cron expression matches no time within %d years",
							MIGRATE_CRON_SEARCH_YEARS),
					 errdetail("No day of the chosen months matches the day-of-month and day-of-week fields."),
					 errhint("Check that the day of month exists in the chosen months; there is no February 30, for example.")));

		next = next_bit(spec->month, month);
		if (next < 0)
		{
			year++;
			month = 1;
			mday = 1;
			hour = 0;
			minute = 0;
			continue;
		}
		if (next != month)
		{
			month = next;
			mday = 1;
			hour = 0;
			minute = 0;
		}

		if (mday > day_tab[isleap(year) ? 1 : 0][month - 1])
		{
			month++;
			mday = 1;
			hour = 0;
			minute = 0;
			continue;
		}
		if (!day_matches(spec, year, month, mday))
		{
			mday++;
			hour = 0;
			minute = 0;
			continue;
		}

		next = next_bit(spec->hour, hour);
		if (next < 0)
		{
			mday++;
			hour = 0;
			minute = 0;
			continue;
		}
		if (next != hour)
		{
			hour = next;
			minute = 0;
		}

		next = next_bit(spec->minute, minute);
		if (next < 0)
		{
			hour++;
			minute = 0;
			continue;
		}
		minute = next;

		if (local_to_utc(year, month, mday, hour, minute, tz, &result) &&
			result > after)
			return result;
		minute++;
	}
}

/*
 * next_bit
 *		The smallest member of set that is at least from, or -1.
 */
static int
next_bit(uint64 set, int from)
{
	if (from >= 64)
		return -1;
	set &= ~UINT64CONST(0) << from;
	if (set == 0)
		return -1;
	return pg_rightmost_one_pos64(set);
}

/*
 * day_matches
 *		Whether spec fires on the given date, by Vixie cron's rule: when
 *		both day fields are restricted, either may match.
 */
static bool
day_matches(const CronSpec *spec, int year, int month, int mday)
{
	bool		dom = (spec->day_of_month & ((uint32) 1 << mday)) != 0;
	int			wday = j2day(date2j(year, month, mday));
	bool		dow = (spec->day_of_week & (1 << wday)) != 0;

	if (spec->dom_star || spec->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * local_to_utc
 *		The instant at which the local wall time year-month-mday hour:minute
 *		occurs in tz, or false if it never occurs there.
 *
 * DetermineTimeZoneOffset resolves a time in a spring-forward gap with the
 * offset from before the change, which yields a different wall time, so a
 * round trip detects the gap.  For a time in a fall-back overlap it picks
 * the later occurrence; we want the earlier, so that a time fires once and
 * as soon as it first happens.  The earlier one, if any, has the offset in
 * force a day before (DetermineTimeZoneOffset itself assumes two changes
 * are at least a day apart), and again a round trip confirms it.
 */
static bool
local_to_utc(int year, int month, int mday, int hour, int minute,
			 pg_tz *tz, TimestampTz *result)
{
	struct pg_tm tm;
	struct pg_tm earlier_tm;
	fsec_t		fsec;
	int			offset;			/* seconds west of Greenwich */
	int			earlier_offset;
	TimestampTz t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year;
	tm.tm_mon = month;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = 0;

	offset = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &offset, &t) != 0 || !IS_VALID_TIMESTAMP(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));

	if (!is_wall_time(t, &tm, tz))
		return false;

	if (timestamp2tm(t - USECS_PER_DAY, &earlier_offset, &earlier_tm, &fsec,
					 NULL, tz) == 0 &&
		earlier_offset < offset)
	{
		TimestampTz earlier;

		earlier = t - (TimestampTz) (offset - earlier_offset) * USECS_PER_SEC;
		if (is_wall_time(earlier, &tm, tz))
			t = earlier;
	}

	*result = t;
	return true;
}

/*
 * is_wall_time
 *		Whether instant t reads as the wall time in want (to the second) in
 *		tz.
 */
static bool
is_wall_time(TimestampTz t, const struct pg_tm *want, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;

	if (timestamp2tm(t, &offset, &tm, &fsec, NULL, tz) != 0)
		return false;
	return tm.tm_year == want->tm_year && tm.tm_mon == want->tm_mon &&
		tm.tm_mday == want->tm_mday && tm.tm_hour == want->tm_hour &&
		tm.tm_min == want->tm_min && tm.tm_sec == want->tm_sec &&
		fsec == 0;
}


/*
 * migrate_cron_next
 *		SQL: migrate.cron_next(expression text, after timestamptz,
 *		timezone text) returns timestamptz.
 */
Datum
migrate_cron_next(PG_FUNCTION_ARGS)
{
	char	   *expression = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	char	   *timezone = text_to_cstring(PG_GETARG_TEXT_PP(2));
	CronSpec	spec;

	cron_parse(expression, &spec);
	PG_RETURN_TIMESTAMPTZ(cron_next_after(&spec, after, timezone));
}
