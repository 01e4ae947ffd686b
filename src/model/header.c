/*-------------------------------------------------------------------------
 *
 * header.c
 *	  Parser of the metadata header at the top of a migration's up script.
 *
 * This is the one hand-written parser in migrate (SQL itself is always
 * split by PostgreSQL's parser), and only for the lines and keys: the
 * values are read by PostgreSQL's own parsers where it has one (date_in,
 * interval_in, SplitGUCList) and versions by version.c's validator.  The header is the run of comment lines at
 * the top of the script, before the first line that is neither blank nor a
 * "--" comment.  Inside it:
 *
 *	 -- Description: text          -- Author: text
 *	 -- Created: YYYY-MM-DD
 *	 -- @dependencies: v1, v2      -- @risk-level: low|medium|high
 *	 -- @zero-downtime: true|false -- @estimated-duration: 30 seconds
 *	 -- @environments: a, b        -- @transaction: true|false
 *	 -- @repeatable: true|false    -- @lock-timeout: 5s
 *	 -- @statement-timeout: 10min  -- @idempotent: true|false
 *	 -- @lint-ignore: rule-id, ... (may be repeated; lint.c reads the ids)
 *
 * Keys are case-insensitive, and the three plain keys may also be written
 * with "@".  Any other comment line is free text, except that a line whose
 * text starts with "@" must be a known key: a typo in a key must not
 * silently change behaviour.  Every error names the line and the key.
 *
 * IDENTIFICATION
 *	  src/model/header.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "model/checksum.h"
#include "compat.h"
#include "errors.h"
#include "model/header.h"
#include "model/json.h"
#include "model/version.h"

PG_FUNCTION_INFO_V1(migrate_header);

/* where we are, for error messages */
typedef struct HeaderLine
{
	int			lineno;
	const char *key;			/* as written, e.g. "@risk-level" */
	const char *value;
} HeaderLine;

typedef void (*HeaderKeyParser) (MigrateHeader *header, const HeaderLine *line);

typedef struct HeaderKey
{
	const char *name;			/* as documented, without "@" */
	bool		plain;			/* may be written without "@" */
	HeaderKeyParser parse;
} HeaderKey;

static void parse_description(MigrateHeader *header, const HeaderLine *line);
static void parse_author(MigrateHeader *header, const HeaderLine *line);
static void parse_created(MigrateHeader *header, const HeaderLine *line);
static void parse_dependencies(MigrateHeader *header, const HeaderLine *line);
static void parse_risk_level(MigrateHeader *header, const HeaderLine *line);
static void parse_zero_downtime(MigrateHeader *header, const HeaderLine *line);
static void parse_estimated_duration(MigrateHeader *header, const HeaderLine *line);
static void parse_environments(MigrateHeader *header, const HeaderLine *line);
static void parse_transaction(MigrateHeader *header, const HeaderLine *line);
static void parse_repeatable(MigrateHeader *header, const HeaderLine *line);
static void parse_lock_timeout(MigrateHeader *header, const HeaderLine *line);
static void parse_statement_timeout(MigrateHeader *header, const HeaderLine *line);
static void parse_idempotent(MigrateHeader *header, const HeaderLine *line);
static void parse_lint_ignore(MigrateHeader *header, const HeaderLine *line);

static const HeaderKey header_keys[] = {
	{"Description", true, parse_description},
	{"Author", true, parse_author},
	{"Created", true, parse_created},
	{"dependencies", false, parse_dependencies},
	{"risk-level", false, parse_risk_level},
	{"zero-downtime", false, parse_zero_downtime},
	{"estimated-duration", false, parse_estimated_duration},
	{"environments", false, parse_environments},
	{"transaction", false, parse_transaction},
	{"repeatable", false, parse_repeatable},
	{"lock-timeout", false, parse_lock_timeout},
	{"statement-timeout", false, parse_statement_timeout},
	{"idempotent", false, parse_idempotent},
	{"lint-ignore", false, parse_lint_ignore},
};

#define NUM_HEADER_KEYS lengthof(header_keys)

pg_attribute_noreturn()
static void
invalid_value(const HeaderLine *line, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_INVALID_HEADER),
			 errmsg("invalid value \"%s\" for header key \"%s\" at line %d",
					line->value, line->key, line->lineno),
			 errdetail("%s", expected)));
}

static void
parse_description(MigrateHeader *header, const HeaderLine *line)
{
	header->description = pstrdup(line->value);
}

static void
parse_author(MigrateHeader *header, const HeaderLine *line)
{
	header->author = pstrdup(line->value);
}

/*
 * Created: an ISO date, YYYY-MM-DD, and a real one.  The form is checked
 * here, since date_in() would also take other forms, some of them read
 * according to the session's DateStyle; date_in() then checks the date.
 */
static void
parse_created(MigrateHeader *header, const HeaderLine *line)
{
	const char *v = line->value;
	Datum		date;

	if (strlen(v) != 10 || strspn(v, "0123456789") != 4 || v[4] != '-' ||
		strspn(v + 5, "0123456789") != 2 || v[7] != '-' ||
		strspn(v + 8, "0123456789") != 2 ||
		!migrate_compat_call_input(date_in, v, &date))
		invalid_value(line, "Expected a date in the form YYYY-MM-DD.");

	header->has_created = true;
	header->created = DatumGetDateADT(date);
}

/*
 * Split a comma-separated list with SplitGUCList(), the parser of list
 * settings such as search_path: items are trimmed and keep their case, an
 * item may be double-quoted (to hold a comma or a blank), and an empty
 * item is refused.  An empty list is refused too.
 */
static List *
split_list(const HeaderLine *line, const char *expected)
{
	List	   *items = NIL;

	if (line->value[0] == '\0' || !SplitGUCList(pstrdup(line->value), ',', &items))
		invalid_value(line, expected);
	return items;
}

/* @dependencies: versions, each valid as register() would check it */
static void
parse_dependencies(MigrateHeader *header, const HeaderLine *line)
{
	const char *expected = "Expected a comma-separated list of migration versions.";
	ListCell   *lc;

	header->dependencies = split_list(line, expected);
	foreach(lc, header->dependencies)
	{
		if (migrate_version_validate(lfirst(lc)) != NULL)
			invalid_value(line, expected);
	}
}

static void
parse_environments(MigrateHeader *header, const HeaderLine *line)
{
	header->environments = split_list(line, "Expected a comma-separated list of environment names.");
}

/*
 * @risk-level: low, medium or high, in any case.
 */
static void
parse_risk_level(MigrateHeader *header, const HeaderLine *line)
{
	if (pg_strcasecmp(line->value, "low") == 0)
		header->risk_level = "low";
	else if (pg_strcasecmp(line->value, "medium") == 0)
		header->risk_level = "medium";
	else if (pg_strcasecmp(line->value, "high") == 0)
		header->risk_level = "high";
	else
		invalid_value(line, "Expected low, medium or high.");
}

static MigrateHeaderBool
parse_header_bool(const HeaderLine *line)
{
	bool		value;

	if (!parse_bool(line->value, &value))
		invalid_value(line, "Expected true or false.");
	return value ? HEADER_TRUE : HEADER_FALSE;
}

static void
parse_zero_downtime(MigrateHeader *header, const HeaderLine *line)
{
	header->zero_downtime = parse_header_bool(line);
}

static void
parse_transaction(MigrateHeader *header, const HeaderLine *line)
{
	header->transactional = parse_header_bool(line);
}

/*
 * @repeatable: a migration that is run again whenever its content changes
 * (Flyway's R__ files), instead of being refused as an edit once applied
 * (store/register.c)
 */
static void
parse_repeatable(MigrateHeader *header, const HeaderLine *line)
{
	header->repeatable = parse_header_bool(line);
}

/*
 * @idempotent: the author says every statement may run again (lint rule
 * prefer-robust-stmts holds the script to it)
 */
static void
parse_idempotent(MigrateHeader *header, const HeaderLine *line)
{
	header->idempotent = parse_header_bool(line);
}

/*
 * @lint-ignore: rule ids the lint does not report for this script.  Kept
 * as written: an unknown id is a lint finding (unused-suppression), not an
 * error, so that a script written for a newer release still registers.
 */
static void
parse_lint_ignore(MigrateHeader *header, const HeaderLine *line)
{
	if (line->value[0] == '\0')
		invalid_value(line, "Expected a comma-separated list of lint rule ids.");
	header->lint_ignore = lappend(header->lint_ignore, pstrdup(line->value));
}

/*
 * @estimated-duration: an interval as interval_in() reads it, such as
 * "30 seconds", "2h", "1.5 hours" or "1 hour 30 minutes", kept as days
 * and time (24-hour days).  Months and years, whose length varies, and
 * negative durations are refused.
 */
static void
parse_estimated_duration(MigrateHeader *header, const HeaderLine *line)
{
	const char *expected = "Expected a duration such as \"30 seconds\", \"5 min\" or \"1 hour 30 minutes\".";
	Datum		datum;
	Interval   *parsed;
	Interval   *result;
	int64		total;

	if (!migrate_compat_call_input(interval_in, line->value, &datum))
		invalid_value(line, expected);
	parsed = DatumGetIntervalP(datum);
	if (parsed->month != 0 ||
		pg_mul_s64_overflow((int64) parsed->day, USECS_PER_DAY, &total) ||
		pg_add_s64_overflow(total, parsed->time, &total) ||
		total < 0)
		invalid_value(line, expected);

	result = palloc0(sizeof(Interval));
	result->day = (int32) (total / USECS_PER_DAY);
	result->time = total % USECS_PER_DAY;
	header->estimated_duration = result;
}

/*
 * @lock-timeout and @statement-timeout: how long each statement of the
 * script may wait for a lock, or run, as the settings lock_timeout and
 * statement_timeout (which take milliseconds, hence the rounding): an
 * interval as interval_in() reads it, with a unit ("500ms", "5s",
 * "10min"), or 0 for no timeout at all.  A bare number is refused: the
 * settings would read "5000" as milliseconds, interval_in() as seconds.
 * Months, negative values, values that round to 0 ms and values beyond
 * what the settings take (INT_MAX ms, about 24 days) are refused too.
 */
static int
parse_timeout(const HeaderLine *line)
{
	const char *expected = "Expected a duration with a unit, such as \"500ms\", \"5s\" or \"10min\", or 0 for none.";
	const char *v = line->value;
	Datum		datum;
	Interval   *parsed;
	int64		total;

	if (strcmp(v, "0") == 0)
		return 0;
	if (v[strspn(v, "0123456789.+- ")] == '\0' ||
		!migrate_compat_call_input(interval_in, v, &datum))
		invalid_value(line, expected);
	parsed = DatumGetIntervalP(datum);
	if (parsed->month != 0 ||
		pg_mul_s64_overflow((int64) parsed->day, USECS_PER_DAY, &total) ||
		pg_add_s64_overflow(total, parsed->time, &total) ||
		total < 0 || (total > 0 && total < 500) ||
		(total + 500) / 1000 > INT_MAX)
		invalid_value(line, expected);
	return (int) ((total + 500) / 1000);
}

static void
parse_lock_timeout(MigrateHeader *header, const HeaderLine *line)
{
	header->lock_timeout_ms = parse_timeout(line);
}

static void
parse_statement_timeout(MigrateHeader *header, const HeaderLine *line)
{
	header->statement_timeout_ms = parse_timeout(line);
}

static const HeaderKey *
lookup_key(const char *name)
{
	for (int i = 0; i < NUM_HEADER_KEYS; i++)
		if (pg_strcasecmp(header_keys[i].name, name) == 0)
			return &header_keys[i];
	return NULL;
}

/*
 * Refuse a header key migrate does not know, listing the ones it does:
 * a misspelt key must not be silently ignored.
 */
static void
unknown_key(const HeaderLine *line)
{
	StringInfoData known;

	initStringInfo(&known);
	for (int i = 0; i < NUM_HEADER_KEYS; i++)
		appendStringInfo(&known, "%s%s%s", i > 0 ? ", " : "",
						 header_keys[i].plain ? "" : "@", header_keys[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_INVALID_HEADER),
			 errmsg("unknown header key \"%s\" at line %d", line->key, line->lineno),
			 errhint("Known keys are %s.", known.data)));
}

/*
 * Handle the text of one comment line (after "--").  "seen" tracks which
 * keys were already given.
 */
static void
parse_comment_line(MigrateHeader *header, char *text, int lineno, bool *seen)
{
	char	   *colon;
	char	   *name;
	char	   *value;
	char	   *end;
	bool		at = (*text == '@');
	const HeaderKey *key;
	HeaderLine	line;

	colon = strchr(text, ':');
	if (!at && (colon == NULL || strcspn(text, " \t") < (size_t) (colon - text)))
		return;					/* free text, not "Key: value" */
	if (colon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_INVALID_HEADER),
				 errmsg("header key \"%s\" at line %d has no value", text, lineno),
				 errhint("Write it as \"-- %s: value\".", text)));

	*colon = '\0';
	name = text + (at ? 1 : 0);
	end = colon;
	while (end > name && isspace((unsigned char) end[-1]))
		*--end = '\0';
	value = colon + 1;
	while (isspace((unsigned char) *value))
		value++;
	end = value + strlen(value);
	while (end > value && isspace((unsigned char) end[-1]))
		*--end = '\0';

	line.lineno = lineno;
	line.key = text;
	line.value = value;

	key = lookup_key(name);
	if (key == NULL)
	{
		if (!at)
			return;				/* "Note: ..." is just a comment */
		unknown_key(&line);
	}
	if (!at && !key->plain)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_INVALID_HEADER),
				 errmsg("header key \"%s\" at line %d must be written \"@%s\"",
						line.key, lineno, key->name),
				 errdetail("Without \"@\" the line would be ignored as a comment.")));
	/* @lint-ignore may be repeated: one line per rule reads better */
	if (seen[key - header_keys] && key->parse != parse_lint_ignore)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_INVALID_HEADER),
				 errmsg("duplicate header key \"%s\" at line %d", line.key, lineno)));
	seen[key - header_keys] = true;
	key->parse(header, &line);
}

/* what walk_header() calls for the text of each comment line of the header */
typedef void (*HeaderLineHandler) (char *text, int lineno, void *arg);

/*
 * Call "handle" for the text (after "--", trimmed) of each comment line of
 * the header: the run of blank and comment lines at the top of the script.
 */
static void
walk_header(const char *script, HeaderLineHandler handle, void *arg)
{
	char	   *copy = pstrdup(script);
	char	   *line = copy;
	int			lineno = 0;

	while (line != NULL)
	{
		char	   *next = strchr(line, '\n');
		char	   *text = line;
		char	   *end;

		CHECK_FOR_INTERRUPTS();
		if (next)
			*next++ = '\0';
		lineno++;

		while (isspace((unsigned char) *text))
			text++;
		if (*text != '\0')
		{
			if (strncmp(text, "--", 2) != 0)
				break;			/* the header ends at the first SQL line */
			text += 2;
			while (*text == '-')
				text++;
			while (isspace((unsigned char) *text))
				text++;
			end = text + strlen(text);
			while (end > text && isspace((unsigned char) end[-1]))
				*--end = '\0';
			handle(text, lineno, arg);
		}
		line = next;
	}
}

/* the header being parsed, and which keys it gave so far */
typedef struct HeaderParse
{
	MigrateHeader *header;
	bool		seen[NUM_HEADER_KEYS];
} HeaderParse;

static void
parse_header_line(char *text, int lineno, void *arg)
{
	HeaderParse *parse = arg;

	parse_comment_line(parse->header, text, lineno, parse->seen);
}

/*
 * Parse the header of a script.  Absent keys are left unset.
 */
MigrateHeader *
migrate_header_parse(const char *script)
{
	HeaderParse parse = {0};

	parse.header = palloc0(sizeof(MigrateHeader));
	parse.header->zero_downtime = HEADER_UNSET;
	parse.header->transactional = HEADER_UNSET;
	parse.header->repeatable = HEADER_UNSET;
	parse.header->lock_timeout_ms = -1;
	parse.header->statement_timeout_ms = -1;
	parse.header->idempotent = HEADER_UNSET;
	walk_header(script, parse_header_line, &parse);
	return parse.header;
}

/* "@lock-timeout: 5s": the value if "text" gives the key "key", else NULL */
static char *
timeout_value(char *text, const char *key)
{
	size_t		len = strlen(key);
	char	   *p;

	if (text[0] != '@' || pg_strncasecmp(text + 1, key, len) != 0)
		return NULL;
	p = text + 1 + len;
	while (isspace((unsigned char) *p))
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

static void
read_timeout_line(char *text, int lineno, void *arg)
{
	MigrateHeaderTimeouts *timeouts = arg;
	HeaderLine	line = {lineno, text, NULL};

	if ((line.value = timeout_value(text, "lock-timeout")) != NULL)
		timeouts->lock_timeout_ms = parse_timeout(&line);
	else if ((line.value = timeout_value(text, "statement-timeout")) != NULL)
		timeouts->statement_timeout_ms = parse_timeout(&line);
}

/*
 * The timeouts a registered script's header gives, read when the script
 * runs.  Only those two keys are read: the rest of the header was
 * validated at registration, perhaps by an earlier release that accepted
 * forms this one refuses, and must not stop the script now.  A script
 * with either key was registered by a release that knows it (an unknown
 * "@" key has always been refused), so its value is valid.
 */
MigrateHeaderTimeouts
migrate_header_timeouts(const char *script)
{
	MigrateHeaderTimeouts timeouts = {-1, -1};

	walk_header(script, read_timeout_line, &timeouts);
	return timeouts;
}

/* a list of strings as an array under "key"; null for NIL when "nil_is_null" */
static void
add_json_list(MigrateJsonBuilder *b, const char *key, List *items, bool nil_is_null)
{
	ListCell   *lc;

	if (items == NIL && nil_is_null)
	{
		migrate_json_add_null(b, key);
		return;
	}
	migrate_json_begin_array(b, key);
	foreach(lc, items)
		migrate_json_add_text(b, NULL, lfirst(lc));
	migrate_json_end(b);
}

/* a header flag: true, false, or null when the header does not say */
static void
add_json_header_bool(MigrateJsonBuilder *b, const char *key, MigrateHeaderBool value)
{
	if (value == HEADER_UNSET)
		migrate_json_add_null(b, key);
	else
		migrate_json_add_bool(b, key, value == HEADER_TRUE);
}

/* ISO date text, whatever the session's DateStyle */
static char *
iso_date(DateADT date)
{
	int			year,
				month,
				day;

	j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	return psprintf("%04d-%02d-%02d", year, month, day);
}

/* interval text such as "1 day 01:30:00", whatever the IntervalStyle */
static char *
plain_interval(const Interval *interval)
{
	int64		usecs = interval->time;
	char	   *hms = psprintf("%02d:%02d:%02d",
							   (int) (usecs / USECS_PER_HOUR),
							   (int) (usecs / USECS_PER_MINUTE % 60),
							   (int) (usecs / USECS_PER_SEC % 60));

	if (usecs % USECS_PER_SEC != 0)
		hms = psprintf("%s.%06d", hms, (int) (usecs % USECS_PER_SEC));
	if (interval->day != 0)
		return psprintf("%d day%s %s", interval->day, interval->day == 1 ? "" : "s", hms);
	return hms;
}

/* a timeout of the header as interval text, or null when not given */
static void
add_json_timeout(MigrateJsonBuilder *b, const char *key, int ms)
{
	Interval	interval = {0};

	if (ms < 0)
	{
		migrate_json_add_null(b, key);
		return;
	}
	interval.day = ms / (int) (USECS_PER_DAY / 1000);
	interval.time = (int64) (ms % (int) (USECS_PER_DAY / 1000)) * 1000;
	migrate_json_add_text(b, key, plain_interval(&interval));
}

/*
 * The header as a jsonb object with every key present (null when absent).
 * Dates and durations are written in a fixed style, so that the document
 * does not depend on the session's DateStyle or IntervalStyle.
 */
static Jsonb *
header_to_json(const MigrateHeader *header)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&b, NULL);
	migrate_json_add_text(&b, "description", header->description);
	migrate_json_add_text(&b, "author", header->author);
	migrate_json_add_text(&b, "created", header->has_created ? iso_date(header->created) : NULL);
	add_json_list(&b, "dependencies", header->dependencies, false);
	migrate_json_add_text(&b, "risk_level", header->risk_level);
	add_json_header_bool(&b, "zero_downtime", header->zero_downtime);
	migrate_json_add_text(&b, "estimated_duration", header->estimated_duration ?
						  plain_interval(header->estimated_duration) : NULL);
	add_json_list(&b, "environments", header->environments, true);
	add_json_header_bool(&b, "transaction", header->transactional);
	add_json_header_bool(&b, "repeatable", header->repeatable);
	add_json_timeout(&b, "lock_timeout", header->lock_timeout_ms);
	add_json_timeout(&b, "statement_timeout", header->statement_timeout_ms);
	add_json_header_bool(&b, "idempotent", header->idempotent);
	add_json_list(&b, "lint_ignore", header->lint_ignore, true);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/* migrate.header(script text) returns jsonb */
Datum
migrate_header(PG_FUNCTION_ARGS)
{
	char	   *script = migrate_checksum_normalise(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MigrateHeader *header = migrate_header_parse(script);

	PG_RETURN_JSONB_P(header_to_json(header));
}
