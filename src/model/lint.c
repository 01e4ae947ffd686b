/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  Running the lint rules over a parsed script, and suppressions.
 *
 * Each module (lint_locking.c, lint_types.c, lint_size.c and the meta
 * rules here) gets every statement in order; lint.c remembers what the
 * script did so far (tables it created, SET lock_timeout and
 * statement_timeout) so that a rule can tell an index on a table created
 * two statements ago from one on a live table.
 *
 * Suppressions: "-- @lint-ignore: rule-id, ..." in the header silences
 * those rules for the whole script; the same comment on a line between the
 * previous statement and this one silences them for this statement only.
 * The lines between two statements are whitespace and comments by
 * construction (the parser split the script there), so reading them line
 * by line is not parsing SQL: only "--" lines are looked at, and only for
 * that one key.  A suppression that silenced nothing, or names no rule, is
 * itself a finding (unused-suppression), so that stale ones are noticed.
 *
 * IDENTIFICATION
 *	  src/model/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/varlena.h"

#include "compat.h"
#include "model/lint.h"

/* one "@lint-ignore" item: a rule id, where it was written, whether used */
typedef struct Suppression
{
	char	   *rule_id;
	int			statement;		/* 0: the header, for every statement */
	int			line;
	bool		used;
} Suppression;

/* what the catalog said about a relation, asked once per lint */
typedef struct KnownRelation
{
	char		key[2 * NAMEDATALEN + 1];	/* "schema.name" as written */
	bool		found;
	MigrateRelationFacts facts;
} KnownRelation;

typedef struct LintPrivate
{
	List	   *suppressions;	/* Suppression * */
	HTAB	   *known;			/* KnownRelation: sizes are measured once */
} LintPrivate;

static const MigrateLintRule meta_rules[] = {
	{"unused-suppression", LINT_WARNING, "meta",
		"An @lint-ignore names a rule that reported nothing there, or no rule at all.",
		"Remove the suppression, or correct the rule id (SELECT id FROM migrate.lint_rules).",
		"-- @lint-ignore: ban-drop-table\nCREATE TABLE t (id bigint);",
	"CREATE TABLE t (id bigint);", false},
};

const MigrateLintModule migrate_lint_module_meta = {
	meta_rules, lengthof(meta_rules), NULL, NULL	/* reported last of all */
};

static const MigrateLintModule *const modules[] = {
	&migrate_lint_module_locking,
	&migrate_lint_module_types,
	&migrate_lint_module_size,
	&migrate_lint_module_meta,
};

const char *
migrate_lint_severity_name(MigrateLintSeverity severity)
{
	switch (severity)
	{
		case LINT_ERROR:
			return "error";
		case LINT_WARNING:
			return "warning";
		case LINT_INFO:
			break;
	}
	return "info";
}

int
migrate_lint_rule_count(void)
{
	int			count = 0;

	for (int i = 0; i < lengthof(modules); i++)
		count += modules[i]->nrules;
	return count;
}

const MigrateLintRule *
migrate_lint_rule_at(int index)
{
	for (int i = 0; i < lengthof(modules); i++)
	{
		if (index < modules[i]->nrules)
			return &modules[i]->rules[index];
		index -= modules[i]->nrules;
	}
	return NULL;
}

const MigrateLintRule *
migrate_lint_find_rule(const char *id)
{
	for (int i = 0; i < lengthof(modules); i++)
		for (int j = 0; j < modules[i]->nrules; j++)
			if (strcmp(modules[i]->rules[j].id, id) == 0)
				return &modules[i]->rules[j];
	return NULL;
}

/* the suppression of rule_id that covers the current statement, or NULL */
static Suppression *
find_suppression(const MigrateLintState *state, const char *rule_id)
{
	const LintPrivate *lint = state->private;
	int			number = state->statement ? state->statement->number : 0;
	ListCell   *lc;

	foreach(lc, lint->suppressions)
	{
		Suppression *s = lfirst(lc);

		if ((s->statement == 0 || s->statement == number) &&
			strcmp(s->rule_id, rule_id) == 0)
			return s;
	}
	return NULL;
}

static void
add_finding(MigrateLintState *state, const MigrateLintRule *rule, int statement,
			int line, char *message, const char *hint)
{
	MigrateLintFinding *finding = palloc(sizeof(MigrateLintFinding));

	finding->rule = rule;
	finding->statement = statement;
	finding->line = line;
	finding->message = message;
	finding->hint = pstrdup(hint ? hint : rule->hint);
	finding->seq = list_length(state->findings);
	state->findings = lappend(state->findings, finding);
}

void
migrate_lint_report(MigrateLintState *state, const char *rule_id,
					const char *hint, const char *fmt,...)
{
	const MigrateLintRule *rule = migrate_lint_find_rule(rule_id);
	Suppression *suppression;
	StringInfoData message;

	if (rule == NULL)
		elog(ERROR, "unknown lint rule \"%s\"", rule_id);
	suppression = find_suppression(state, rule_id);
	if (suppression != NULL)
	{
		suppression->used = true;
		return;
	}
	initStringInfo(&message);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&message, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&message, needed);
	}
	add_finding(state, rule, state->statement ? state->statement->number : 0,
				state->statement ? state->statement->line : 1, message.data, hint);
}

/* same relation, by name: a missing schema matches any (text only) */
bool
migrate_lint_same_relation(const RangeVar *a, const RangeVar *b)
{
	if (strcmp(a->relname, b->relname) != 0)
		return false;
	if (a->schemaname == NULL || b->schemaname == NULL)
		return true;
	return strcmp(a->schemaname, b->schemaname) == 0;
}

bool
migrate_lint_table_created_here(const MigrateLintState *state, const RangeVar *relation)
{
	ListCell   *lc;

	if (relation == NULL)
		return false;
	foreach(lc, state->created_tables)
	{
		if (migrate_lint_same_relation(lfirst(lc), relation))
			return true;
	}
	return false;
}

/*
 * The catalog's facts about a relation, measured once per lint: a script
 * of 10,000 statements on a few tables would otherwise measure each table
 * thousands of times (the catalog does not change while a lint runs).
 * The key is the name as written, so that a.t and b.t, or t in two
 * search paths, never share an answer.
 */
bool
migrate_lint_relation(MigrateLintState *state, const RangeVar *relation,
					  MigrateRelationFacts *facts)
{
	LintPrivate *lint = state->private;
	char		key[2 * NAMEDATALEN + 1] = {0};
	KnownRelation *known;
	bool		seen;

	memset(facts, 0, sizeof(*facts));
	facts->reltuples = -1;
	if (state->facts == NULL || state->facts->relation == NULL || relation == NULL)
		return false;
	if (lint->known == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(KnownRelation);
		ctl.hcxt = CurrentMemoryContext;
		lint->known = hash_create("migrate lint relations", 64, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	/* names are at most NAMEDATALEN - 1 bytes: the parser truncates them */
	snprintf(key, sizeof(key), "%s.%s",
			 relation->schemaname ? relation->schemaname : "", relation->relname);
	known = hash_search(lint->known, key, HASH_ENTER, &seen);
	if (!seen)
	{
		known->found = state->facts->relation(relation, &known->facts) &&
			known->facts.exists;
		if (!known->found)
		{
			memset(&known->facts, 0, sizeof(known->facts));
			known->facts.reltuples = -1;
		}
	}
	*facts = known->facts;
	return known->found;
}

bool
migrate_lint_table_is_new(MigrateLintState *state, const RangeVar *relation)
{
	MigrateRelationFacts facts;

	if (migrate_lint_table_created_here(state, relation))
		return true;
	return migrate_lint_relation(state, relation, &facts) && facts.empty;
}

/*
 * Add the rule ids of one "@lint-ignore: a, b" value.  SplitGUCList is
 * PostgreSQL's parser of such lists (header.c uses it too).
 */
static void
add_suppressions(LintPrivate *lint, const char *value, int statement, int line)
{
	List	   *ids = NIL;
	ListCell   *lc;

	if (!SplitGUCList(pstrdup(value), ',', &ids))
		ids = list_make1(pstrdup(value));
	foreach(lc, ids)
	{
		Suppression *s = palloc0(sizeof(Suppression));

		s->rule_id = lfirst(lc);
		s->statement = statement;
		s->line = line;
		lint->suppressions = lappend(lint->suppressions, s);
	}
}

/*
 * The value after "@lint-ignore:" on a "--" comment line, or NULL.  The
 * key is case-insensitive, as the header's keys are.
 */
static const char *
lint_ignore_value(const char *line, int len)
{
	static const char key[] = "@lint-ignore:";
	int			i = 0;

	while (i < len && isspace((unsigned char) line[i]))
		i++;
	if (len - i < 2 || line[i] != '-' || line[i + 1] != '-')
		return NULL;
	i += 2;
	while (i < len && isspace((unsigned char) line[i]))
		i++;
	if (len - i < (int) strlen(key) || pg_strncasecmp(line + i, key, strlen(key)) != 0)
		return NULL;
	return line + i + strlen(key);
}

/*
 * The suppressions written on the comment lines between the end of the
 * previous statement ("from") and the first token of this one.
 */
static void
statement_suppressions(LintPrivate *lint, const char *script, int from,
					   const MigrateStatement *stmt)
{
	int			line = stmt->line;
	int			pos = stmt->start;

	/* walk back line by line from the statement's first token */
	while (pos > from)
	{
		int			end = pos - 1;	/* the newline before this line */
		int			begin = end;
		const char *value;

		while (begin > from && script[begin - 1] != '\n')
			begin--;
		line--;
		value = lint_ignore_value(script + begin, end - begin);
		if (value != NULL)
		{
			char	   *copy = pnstrdup(value, end - (value - script));

			add_suppressions(lint, copy, stmt->number, line);
		}
		pos = begin;
	}
}

static void
collect_suppressions(MigrateLintState *state, LintPrivate *lint)
{
	const MigrateParsedScript *parsed = state->parsed;
	ListCell   *lc;

	foreach(lc, state->header->lint_ignore)
		add_suppressions(lint, lfirst(lc), 0, 1);
	/* the first statement's leading comments are the header's */
	for (int i = 1; i < parsed->nstatements; i++)
		statement_suppressions(lint, parsed->script, parsed->statements[i - 1].end,
							   &parsed->statements[i]);
}

/* what this statement tells later ones: a table created, a timeout set */
static void
remember_statement(MigrateLintState *state)
{
	Node	   *stmt = state->stmt;

	if (IsA(stmt, CreateStmt))
		state->created_tables = lappend(state->created_tables,
										((CreateStmt *) stmt)->relation);
	else if (IsA(stmt, CreateTableAsStmt) &&
			 migrate_ctas_objtype((CreateTableAsStmt *) stmt) == OBJECT_TABLE)
		state->created_tables = lappend(state->created_tables,
										((CreateTableAsStmt *) stmt)->into->rel);
	else if (IsA(stmt, VariableSetStmt) && ((VariableSetStmt *) stmt)->name != NULL)
	{
		VariableSetStmt *set = (VariableSetStmt *) stmt;

		if (strcmp(set->name, "lock_timeout") == 0)
			state->lock_timeout_set = set->kind == VAR_SET_VALUE;
		else if (strcmp(set->name, "statement_timeout") == 0)
			state->statement_timeout_set = set->kind == VAR_SET_VALUE;
	}
}

/* unused-suppression: every suppression that silenced nothing */
static void
report_unused_suppressions(MigrateLintState *state, LintPrivate *lint)
{
	const MigrateLintRule *rule = migrate_lint_find_rule("unused-suppression");
	ListCell   *lc;

	/*
	 * First, "@lint-ignore: unused-suppression" silences the others of its
	 * scope, and is used by doing so: it must not be reported itself.
	 */
	foreach(lc, lint->suppressions)
	{
		Suppression *s = lfirst(lc);
		Suppression *quiet;

		if (s->used || strcmp(s->rule_id, "unused-suppression") == 0)
			continue;
		state->statement = s->statement > 0 ? &state->parsed->statements[s->statement - 1] : NULL;
		quiet = find_suppression(state, "unused-suppression");
		if (quiet != NULL)
			quiet->used = s->used = true;
	}
	foreach(lc, lint->suppressions)
	{
		Suppression *s = lfirst(lc);

		if (s->used)
			continue;
		add_finding(state, rule, s->statement, s->line,
					migrate_lint_find_rule(s->rule_id) != NULL ?
					psprintf("@lint-ignore: %s suppressed nothing", s->rule_id) :
					psprintf("@lint-ignore names \"%s\", which is no lint rule", s->rule_id),
					NULL);
	}
}

/* statement order; migration-wide findings (statement 0) first */
static int
finding_order(const ListCell *a, const ListCell *b)
{
	const MigrateLintFinding *fa = lfirst(a);
	const MigrateLintFinding *fb = lfirst(b);

	if (fa->statement != fb->statement)
		return fa->statement < fb->statement ? -1 : 1;
	/* list_sort is a qsort, not stable: keep the order of reporting */
	return fa->seq < fb->seq ? -1 : fa->seq > fb->seq;
}

void
migrate_lint_options_init(MigrateLintOptions *options, const MigrateParsedScript *parsed,
						  const MigrateHeader *header, const MigrateEnvironment *env)
{
	memset(options, 0, sizeof(*options));
	/* as register() decides it: the header may only say false */
	options->transactional = parsed->first_nontransactional == NULL &&
		header->transactional != HEADER_FALSE;
	options->lock_timeout_given = header->lock_timeout_ms > 0 ||
		(env != NULL && env->lock_timeout_ms > 0);
	options->statement_timeout_given = header->statement_timeout_ms > 0 ||
		(env != NULL && env->statement_timeout_ms > 0);
	options->require_timeouts = env != NULL && env->lint_require_timeouts;
	options->large_table_bytes = env != NULL ? env->lint_large_table_bytes :
		MIGRATE_LINT_DEFAULT_LARGE_TABLE_BYTES;
}

List *
migrate_lint_script(const MigrateParsedScript *parsed, const MigrateHeader *header,
					const MigrateLintOptions *options, const MigrateCatalogFacts *facts)
{
	MigrateLintState state = {0};
	LintPrivate lint = {0};

	state.parsed = parsed;
	state.header = header;
	state.options = options;
	state.facts = facts;
	state.private = &lint;
	collect_suppressions(&state, &lint);

	for (int i = 0; i < parsed->nstatements; i++)
	{
		CHECK_FOR_INTERRUPTS();
		state.statement = &parsed->statements[i];
		state.stmt = state.statement->parsetree;
		for (int m = 0; m < lengthof(modules); m++)
			if (modules[m]->check != NULL)
				modules[m]->check(&state);
		remember_statement(&state);
	}
	state.statement = NULL;
	state.stmt = NULL;
	for (int m = 0; m < lengthof(modules); m++)
		if (modules[m]->finish != NULL)
			modules[m]->finish(&state);
	report_unused_suppressions(&state, &lint);
	list_sort(state.findings, finding_order);
	return state.findings;
}
