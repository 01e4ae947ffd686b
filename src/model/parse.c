/*-------------------------------------------------------------------------
 *
 * parse.c
 *	  Splitting migration scripts with PostgreSQL's parser.
 *
 * A script is split by pg_parse_query(), so dollar quoting, nested
 * comments, E'' strings, function bodies and BEGIN ATOMIC bodies are
 * handled exactly as the server handles them.  Each RawStmt says where its
 * text starts and ends; the start includes the whitespace and comments
 * after the previous semicolon, so one pass of the core scanner over the
 * script finds each statement's first token, for line numbers and display.
 * Each statement is classified by classify.c as it is split.
 *
 * Transaction control: a script wrapped in one plain BEGIN ... COMMIT pair
 * (as Sqitch templates write them) is accepted and the pair ignored, since
 * every migration already runs in a transaction of its own.  Any other
 * transaction control statement is refused, because it would break the
 * all-or-nothing promise.
 *
 * IDENTIFICATION
 *	  src/model/parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"

#include "model/checksum.h"
#include "compat.h"
#include "errors.h"
#include "model/classify.h"
#include "model/parse.h"

PG_FUNCTION_INFO_V1(migrate_statements);

/*
 * Longest run of operator characters (see check_operator_runs) a script
 * may hold.  Far beyond any hand-written script; a run this long costs the
 * core scanner about 50 million steps, a fraction of a second.
 */
#define MAX_OPERATOR_RUN	10000

typedef struct ParseErrorInfo
{
	const char *script;
	const char *what;			/* e.g. 'up script of migration "001"' */
} ParseErrorInfo;

/*
 * 1-based line number of a byte offset in a script.
 */
int
migrate_parse_line_at(const char *script, int offset)
{
	int			line = 1;

	for (int i = 0; i < offset && script[i]; i++)
		if (script[i] == '\n')
			line++;
	return line;
}

/* byte offset of a 1-based character position, as errposition() counts */
static int
byte_offset_of_char(const char *script, int charpos)
{
	int			offset = 0;

	for (int i = 1; i < charpos && script[offset]; i++)
		offset += pg_mblen(script + offset);
	return offset;
}

/*
 * Error context while parsing: name the script and the line, and show the
 * script (not the caller's query) under the error cursor.
 */
static void
parse_error_callback(void *arg)
{
	ParseErrorInfo *info = (ParseErrorInfo *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(info->script);
		errcontext("%s, line %d", info->what,
				   migrate_parse_line_at(info->script, byte_offset_of_char(info->script, pos)));
	}
	else
		errcontext("%s", info->what);
}

static bool
is_plain_begin(Node *stmt)
{
	TransactionStmt *ts = (TransactionStmt *) stmt;

	return IsA(stmt, TransactionStmt) &&
		(ts->kind == TRANS_STMT_BEGIN || ts->kind == TRANS_STMT_START) &&
		ts->options == NIL;
}

static bool
is_plain_commit(Node *stmt)
{
	TransactionStmt *ts = (TransactionStmt *) stmt;

	return IsA(stmt, TransactionStmt) && ts->kind == TRANS_STMT_COMMIT && !ts->chain;
}

/*
 * Refuse statements that cannot be part of a migration at all.
 */
static void
check_statement_allowed(const MigrateParsedScript *parsed, const MigrateStatement *stmt,
						const char *what)
{
	Node	   *tree = stmt->parsetree;

	if (IsA(tree, TransactionStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("%s must not contain %s", what, stmt->classified.command),
				 errdetail("Statement %d at line %d controls the transaction.",
						   stmt->number, stmt->line),
				 errhint("Each migration runs in a transaction of its own. A script may be wrapped in one BEGIN ... COMMIT pair, which is ignored; any other transaction control is refused.")));

	if (IsA(tree, CopyStmt) && ((CopyStmt *) tree)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must not contain COPY %s", what,
						((CopyStmt *) tree)->is_from ? "FROM STDIN" : "TO STDOUT"),
				 errdetail("Statement %d at line %d needs a client connection.",
						   stmt->number, stmt->line),
				 errhint("Use INSERT statements, or COPY from a file on the server.")));
}

/* one of the characters the core scanner's op_chars class holds */
static bool
is_operator_char(char c)
{
	return c != '\0' && strchr("~!@#^&|`?+-*/%<>=", c) != NULL;
}

/*
 * Refuse a run of operator characters that holds a comment start and is
 * longer than MAX_OPERATOR_RUN.  The core scanner (scan.l) matches a
 * comment start (slash, star) together with every operator character after
 * it and then puts all but two back, so a run of n such characters that
 * opens nested comments over and over costs it n squared steps: 100,000
 * characters take half a minute, inside pg_parse_query(), where no cancel
 * and no statement_timeout can stop it.  This scan is linear and can be
 * cancelled.  It does not know about string literals, so such a run inside
 * a string is refused too; no real script has one.
 */
static void
check_operator_runs(const char *script, const char *what)
{
	const char *run = NULL;
	bool		comment_start = false;

	for (const char *p = script;; p++)
	{
		if (((p - script) & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (is_operator_char(*p))
		{
			if (run == NULL)
			{
				run = p;
				comment_start = false;
			}
			if (p > run && p[-1] == '/' && p[0] == '*')
				comment_start = true;
			if (comment_start && p - run >= MAX_OPERATOR_RUN)
				ereport(ERROR,
						(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
						 errmsg("%s is too complex to split", what),
						 errdetail("At line %d it holds a run of more than %d characters such as \"/*\" without a space, which PostgreSQL's scanner takes quadratic time to read.",
								   migrate_parse_line_at(script, run - script), MAX_OPERATOR_RUN),
						 errhint("Separate nested comment markers with spaces or newlines.")));
		}
		else
			run = NULL;
		if (*p == '\0')
			break;
	}
}

/*
 * Advance the scanner to the first token at or after "from"; return its
 * byte offset, or "limit" when there is none before it.
 */
static int
first_token_at(core_yyscan_t scanner, int *last_token, int from, int limit)
{
	while (*last_token < from)
	{
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;

		CHECK_FOR_INTERRUPTS();

		if (core_yylex(&yylval, &yylloc, scanner) == 0)
		{
			*last_token = INT_MAX;
			break;
		}
		*last_token = yylloc;
	}
	return Min(*last_token, limit);
}

/*
 * Split a script into statements with PostgreSQL's parser.  "what" names
 * the script in error messages, e.g. 'up script of migration "001"'.
 */
MigrateParsedScript *
migrate_parse_script(const char *script, const char *what)
{
	MigrateParsedScript *parsed = palloc0(sizeof(MigrateParsedScript));
	ErrorContextCallback errcallback;
	ParseErrorInfo info = {script, what};
	List	   *raw;
	ListCell   *lc;
	int			first,
				last;
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	int			last_token = -1;
	int			line = 1,
				line_offset = 0;

	errcallback.callback = parse_error_callback;
	errcallback.arg = &info;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	check_operator_runs(script, what);
	raw = pg_parse_query(script);
	error_context_stack = errcallback.previous;
	/* the parse may have taken long: honour a cancel or timeout now */
	CHECK_FOR_INTERRUPTS();

	parsed->script = script;
	parsed->statements = palloc0(sizeof(MigrateStatement) * Max(list_length(raw), 1));

	/* drop one BEGIN ... COMMIT pair around the whole script */
	first = 0;
	last = list_length(raw) - 1;
	if (last >= 1 &&
		is_plain_begin(linitial_node(RawStmt, raw)->stmt) &&
		is_plain_commit(llast_node(RawStmt, raw)->stmt))
	{
		first++;
		last--;
	}

	scanner = scanner_init(script, &yyextra, &ScanKeywords, ScanKeywordTokens);
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			index = foreach_current_index(lc);
		MigrateStatement *stmt;
		int			end;

		CHECK_FOR_INTERRUPTS();
		if (index < first || index > last)
			continue;
		end = rs->stmt_len > 0 ? rs->stmt_location + rs->stmt_len : strlen(script);
		stmt = &parsed->statements[parsed->nstatements++];
		stmt->number = parsed->nstatements;
		stmt->start = first_token_at(scanner, &last_token, rs->stmt_location, end);
		stmt->end = end;
		/* statements come in order, so count newlines incrementally */
		line += migrate_parse_line_at(script + line_offset, stmt->start - line_offset) - 1;
		line_offset = stmt->start;
		stmt->line = line;
		stmt->parsetree = rs->stmt;
		migrate_classify_statement(rs->stmt, &stmt->classified);

		check_statement_allowed(parsed, stmt, what);
		if (!stmt->classified.transactional && parsed->first_nontransactional == NULL)
			parsed->first_nontransactional = stmt;
	}
	scanner_finish(scanner);
	return parsed;
}

/*
 * The text of a statement from its first token, without the semicolon.
 */
char *
migrate_parse_statement_text(const MigrateParsedScript *parsed, const MigrateStatement *stmt)
{
	return pnstrdup(parsed->script + stmt->start, stmt->end - stmt->start);
}

/* migrate.statements(script text) returns setof (statement, line, command, transactional, sql) */
Datum
migrate_statements(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script = migrate_checksum_normalise(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MigrateParsedScript *parsed;

	migrate_materialize_srf(fcinfo);
	parsed = migrate_parse_script(script, "script");

	for (int i = 0; i < parsed->nstatements; i++)
	{
		const MigrateStatement *stmt = &parsed->statements[i];
		Datum		values[5];
		bool		nulls[5] = {0};

		CHECK_FOR_INTERRUPTS();

		values[0] = Int32GetDatum(stmt->number);
		values[1] = Int32GetDatum(stmt->line);
		values[2] = CStringGetTextDatum(stmt->classified.command);
		values[3] = BoolGetDatum(stmt->classified.transactional);
		values[4] = CStringGetTextDatum(migrate_parse_statement_text(parsed, stmt));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
