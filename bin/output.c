/*-------------------------------------------------------------------------
 *
 * output.c
 *		Tables on a terminal, --json documents, colour, --quiet.
 *
 * Three ways out:
 *
 *	- a terminal or a plain stdout (a CI log): tables aligned as psql's
 *	  aligned format prints them, with colour for states on a terminal only;
 *	  server NOTICEs as progress lines; errors on stderr as
 *	  "pg_migrate: error: ..." followed by the server's DETAIL, HINT and
 *	  CONTEXT lines as psql prints them;
 *	- --json: nothing on stdout but ONE JSON document, printed at exit by
 *	  out_json_flush(): the tables, the messages the server sent and the
 *	  errors (with their SQLSTATE) are collected into it (errors still go to
 *	  stderr too, so that a person watching a CI job sees them);
 *	- --quiet: errors only.
 *
 * The document of a run against one database:
 *
 *	{"command": "status", "connection": "...", "database": "demo",
 *	 "host": "...", "port": "...",
 *	 <the command's keys, e.g. "migrations": [...]>,
 *	 "messages": [...], "errors": [...], "exit_code": 0}
 *
 * Against several databases (fleet.c runs the command once per database in
 * this process): {"command": ..., "databases": [<one object as above, without
 * "command">, ...], "exit_code": <the worst>}.
 *
 * libpq has no JSON writer and libpgcommon only a parser (jsonapi.h), so the
 * few lines that write JSON are here: strings are escaped as RFC 8259 asks
 * (quotes, backslashes, control characters), valid UTF-8 passes through as
 * it is and an invalid byte becomes U+FFFD, so the document is always valid
 * JSON.  The table aligner is small for the same reason: libpq's PQprint
 * has no colour and does not align as psql does, and psql's printer lives
 * in libpgfeutils, which the client does not link.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <stdarg.h>

#include "catalog/pg_type_d.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#define COLOR_GREEN		"\033[32m"
#define COLOR_RED		"\033[31m"
#define COLOR_YELLOW	"\033[33m"
#define COLOR_RESET		"\033[0m"

/* an error of the --json document, open for a detail or hint to follow */
typedef struct JsonError
{
	char	   *severity;
	char	   *sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
	char	   *context;
} JsonError;

/* one run of a command against one database, for the --json document */
typedef struct JsonRun
{
	PQExpBuffer fields;			/* ,"key": value ... (leading comma) */
	PQExpBuffer messages;		/* array elements, comma separated */
	PQExpBuffer errors;			/* likewise, but for the last error */
	JsonError  *last_error;		/* not yet in errors: a hint may follow */
	int			exit_code;
} JsonRun;

static void json_message(PQExpBuffer array, const char *severity,
						 const char *sqlstate, const char *message,
						 const char *detail, const char *hint,
						 const char *context);

static const ClientOptions *out_opts;
static JsonRun *runs;
static int	nruns;
static int	final_exit_code;

static bool
json_mode(void)
{
	return out_opts != NULL && out_opts->json;
}

static bool
quiet_mode(void)
{
	return out_opts != NULL && out_opts->quiet;
}

void
out_init(const ClientOptions *opts)
{
	out_opts = opts;
}

/* --------------------------------------------------------------------
 * JSON writing
 * --------------------------------------------------------------------
 */

/*
 * Append s as a JSON string: escaped, invalid UTF-8 replaced by U+FFFD.
 * The client's one JSON string writer (fleet.c uses it too).
 */
void
json_escape(PQExpBuffer buf, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	appendPQExpBufferChar(buf, '"');
	while (*p)
	{
		if (*p < 0x20)
		{
			switch (*p)
			{
				case '\b':
					appendPQExpBufferStr(buf, "\\b");
					break;
				case '\f':
					appendPQExpBufferStr(buf, "\\f");
					break;
				case '\n':
					appendPQExpBufferStr(buf, "\\n");
					break;
				case '\r':
					appendPQExpBufferStr(buf, "\\r");
					break;
				case '\t':
					appendPQExpBufferStr(buf, "\\t");
					break;
				default:
					appendPQExpBuffer(buf, "\\u%04x", *p);
					break;
			}
			p++;
		}
		else if (*p == '"' || *p == '\\')
		{
			appendPQExpBufferChar(buf, '\\');
			appendPQExpBufferChar(buf, (char) *p++);
		}
		else if (*p < 0x80)
			appendPQExpBufferChar(buf, (char) *p++);
		else
		{
			int			len = pg_utf_mblen(p);
			int			avail = (int) strnlen((const char *) p, len);

			if (avail == len && pg_utf8_islegal(p, len))
			{
				appendBinaryPQExpBuffer(buf, (const char *) p, len);
				p += len;
			}
			else
			{
				appendPQExpBufferStr(buf, "\\ufffd");
				p++;
			}
		}
	}
	appendPQExpBufferChar(buf, '"');
}

/* the run that keys go to: the current one, started on first use */
static JsonRun *
current_run(void)
{
	if (nruns == 0)
		out_begin_database(NULL);
	return &runs[nruns - 1];
}

static void
json_key(PQExpBuffer buf, const char *key)
{
	appendPQExpBufferStr(buf, ", ");
	json_escape(buf, key);
	appendPQExpBufferStr(buf, ": ");
}

void
out_json_field(const char *key, const char *value)
{
	JsonRun    *run;

	if (!json_mode())
		return;
	run = current_run();
	json_key(run->fields, key);
	if (value == NULL)
		appendPQExpBufferStr(run->fields, "null");
	else
		json_escape(run->fields, value);
}

void
out_json_number(const char *key, long value)
{
	JsonRun    *run;

	if (!json_mode())
		return;
	run = current_run();
	json_key(run->fields, key);
	appendPQExpBuffer(run->fields, "%ld", value);
}

void
out_json_raw(const char *key, const char *json)
{
	JsonRun    *run;

	if (!json_mode())
		return;
	run = current_run();
	json_key(run->fields, key);
	appendPQExpBufferStr(run->fields, json ? json : "null");
}

/*
 * Start the part of the document about one database; "connection" (if not
 * NULL) is its -d as redact_conninfo() describes it, never a password.  A
 * part that has nothing in it yet is reused.
 */
void
out_begin_database(const char *connection)
{
	JsonRun    *run;

	if (nruns == 0 || runs[nruns - 1].fields->len > 0 ||
		runs[nruns - 1].messages->len > 0 || runs[nruns - 1].errors->len > 0 ||
		runs[nruns - 1].last_error != NULL)
	{
		runs = pg_realloc(runs, sizeof(JsonRun) * (nruns + 1));
		run = &runs[nruns++];
		run->fields = createPQExpBuffer();
		run->messages = createPQExpBuffer();
		run->errors = createPQExpBuffer();
		run->last_error = NULL;
		run->exit_code = EXIT_OK;
	}
	if (connection != NULL)
		out_json_field("connection", connection);
}

void
out_end_database(int exit_code)
{
	if (nruns > 0)
		runs[nruns - 1].exit_code = exit_code;
	final_exit_code = exit_code;
}

void
out_finish(int exit_code)
{
	final_exit_code = exit_code;
	out_json_flush();
}

/* move the open error of a run into its "errors" array */
static void
close_error(JsonRun *run)
{
	JsonError  *e = run->last_error;

	if (e == NULL)
		return;
	json_message(run->errors, e->severity, e->sqlstate, e->message,
				 e->detail, e->hint, e->context);
	run->last_error = NULL;
}

static char *
strdup_or_null(const char *s)
{
	return s ? pg_strdup(s) : NULL;
}

/* a new error of the current run; the one before it is final */
static void
add_error(const char *severity, const char *sqlstate, const char *message,
		  const char *detail, const char *hint, const char *context)
{
	JsonRun    *run = current_run();
	JsonError  *e = pg_malloc0(sizeof(JsonError));

	close_error(run);
	e->severity = pg_strdup(severity ? severity : "ERROR");
	e->sqlstate = strdup_or_null(sqlstate);
	e->message = pg_strdup(message ? message : "");
	e->detail = strdup_or_null(detail);
	e->hint = strdup_or_null(hint);
	e->context = strdup_or_null(context);
	run->last_error = e;
}

static void
print_run(FILE *f, JsonRun *run, bool with_exit_code)
{
	/* fields start with ", ": the caller printed the first key */
	close_error(run);
	fputs(run->fields->data, f);
	fprintf(f, ", \"messages\": [%s]", run->messages->data);
	fprintf(f, ", \"errors\": [%s]", run->errors->data);
	if (with_exit_code)
		fprintf(f, ", \"exit_code\": %d", run->exit_code);
}

/*
 * Print the one document of this invocation on stdout (--json only).  Called
 * once, at exit, by main through out_finish().
 */
void
out_json_flush(void)
{
	PQExpBuffer cmd;

	if (!json_mode())
		return;
	cmd = createPQExpBuffer();
	json_escape(cmd, out_opts->command ? out_opts->command : "");
	printf("{\"command\": %s", cmd->data);
	if (nruns <= 1)
	{
		if (nruns == 1)
			print_run(stdout, &runs[0], false);
		else
			printf(", \"messages\": [], \"errors\": []");
	}
	else
	{
		printf(", \"databases\": [");
		for (int i = 0; i < nruns; i++)
		{
			/* skip the leading ", " of the fields to open each object */
			const char *fields = runs[i].fields->data;

			close_error(&runs[i]);
			printf("%s{", i ? ", " : "");
			if (strncmp(fields, ", ", 2) == 0)
				fields += 2;
			fputs(fields, stdout);
			printf("%s\"messages\": [%s], \"errors\": [%s], \"exit_code\": %d}",
				   *fields ? ", " : "", runs[i].messages->data,
				   runs[i].errors->data, runs[i].exit_code);
		}
		printf("]");
	}
	printf(", \"exit_code\": %d}\n", final_exit_code);
	fflush(stdout);
	destroyPQExpBuffer(cmd);
}

/* --------------------------------------------------------------------
 * Values of a result as JSON
 * --------------------------------------------------------------------
 */

/* PostgreSQL's text form of a number is a JSON number unless NaN/Infinity */
static bool
is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.')
	{
		p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return *p == '\0';
}

/*
 * The elements of a one-dimensional text[] or name[] in PostgreSQL's array
 * syntax ({a,"b c",NULL}): *elems (malloc'd strings, NULL for a NULL
 * element) and *nelems; false when the text is something else.
 */
bool
split_text_array(const char *s, char ***elems, int *nelems)
{
	PQExpBuffer elem = createPQExpBuffer();
	const char *p = s;
	int			n = 0;
	char	  **list = NULL;

	if (*p++ != '{')
		goto fail;
	while (*p && *p != '}')
	{
		bool		quoted = false;

		resetPQExpBuffer(elem);
		if (*p == '{')
			goto fail;			/* more than one dimension */
		if (*p == '"')
		{
			quoted = true;
			p++;
			while (*p && *p != '"')
			{
				if (*p == '\\' && p[1])
					p++;
				appendPQExpBufferChar(elem, *p++);
			}
			if (*p++ != '"')
				goto fail;
		}
		else
			while (*p && *p != ',' && *p != '}')
				appendPQExpBufferChar(elem, *p++);
		list = pg_realloc(list, sizeof(char *) * (n + 1));
		list[n++] = !quoted && strcmp(elem->data, "NULL") == 0 ? NULL :
			pg_strdup(elem->data);
		if (*p == ',')
			p++;
	}
	if (*p != '}' || p[1] != '\0')
		goto fail;
	destroyPQExpBuffer(elem);
	*elems = list;
	*nelems = n;
	return true;

fail:
	destroyPQExpBuffer(elem);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return false;
}

/*
 * A one-dimensional text[] or name[] as a JSON array; false when it is
 * something else (the caller then writes the text as a string).
 */
static bool
json_text_array(PQExpBuffer buf, const char *s)
{
	char	  **elems;
	int			n;

	if (!split_text_array(s, &elems, &n))
		return false;
	appendPQExpBufferChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendPQExpBufferStr(buf, ", ");
		if (elems[i] == NULL)
			appendPQExpBufferStr(buf, "null");
		else
			json_escape(buf, elems[i]);
		free(elems[i]);
	}
	appendPQExpBufferChar(buf, ']');
	free(elems);
	return true;
}

/* one value of a result, typed: numbers, booleans, json as they are */
static void
json_value(PQExpBuffer buf, const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
	{
		appendPQExpBufferStr(buf, "null");
		return;
	}
	switch (PQftype(res, col))
	{
		case BOOLOID:
			appendPQExpBufferStr(buf, v[0] == 't' ? "true" : "false");
			return;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			if (is_json_number(v))
			{
				appendPQExpBufferStr(buf, v);
				return;
			}
			break;
		case JSONOID:
		case JSONBOID:
			/* the server wrote it: valid JSON */
			appendPQExpBufferStr(buf, v);
			return;
		case TEXTARRAYOID:
		case NAMEARRAYOID:
			{
				size_t		len = buf->len;

				if (json_text_array(buf, v))
					return;
				buf->len = len;
				buf->data[len] = '\0';
			}
			break;
	}
	json_escape(buf, v);
}

/* --------------------------------------------------------------------
 * Aligned tables
 * --------------------------------------------------------------------
 */

/* display width of n bytes of UTF-8 (control characters count as 0) */
static int
display_width(const char *s, int n)
{
	int			width = 0;
	const char *end = s + n;

	while (s < end)
	{
		int			len = pg_utf_mblen((const unsigned char *) s);
		int			w;

		if (len > end - s)
			len = end - s;
		w = pg_encoding_dsplen(PG_UTF8, s);
		if (w > 0)
			width += w;
		s += len;
	}
	return width;
}

/* the length in bytes of the first line of s */
static int
line_length(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl ? (int) (nl - s) : (int) strlen(s);
}

/* widest line of a cell */
static int
cell_width(const char *s)
{
	int			widest = 0;

	for (;;)
	{
		int			len = line_length(s);
		int			w = display_width(s, len);

		if (w > widest)
			widest = w;
		if (s[len] == '\0')
			return widest;
		s += len + 1;
	}
}

/* the colour of a state, an action or an outcome; NULL: none */
static const char *
value_color(const char *header, const char *value)
{
	if (strcmp(header, "state") != 0 && strcmp(header, "action") != 0 &&
		strcmp(header, "outcome") != 0 && strcmp(header, "ok") != 0 &&
		strcmp(header, "severity") != 0)
		return NULL;
	if (strcmp(value, "applied") == 0 || strcmp(value, "success") == 0 ||
		strcmp(value, "reverted") == 0 || strcmp(value, "t") == 0)
		return COLOR_GREEN;
	if (strcmp(value, "failed") == 0 || strcmp(value, "dirty") == 0 ||
		strcmp(value, "failure") == 0 || strcmp(value, "error") == 0 ||
		strcmp(value, "f") == 0)
		return COLOR_RED;
	if (strcmp(value, "pending") == 0 || strncmp(value, "would ", 6) == 0 ||
		strcmp(value, "warning") == 0)
		return COLOR_YELLOW;
	return NULL;
}

static void
print_padding(int n)
{
	while (n-- > 0)
		putchar(' ');
}

/*
 * A cell as it may be written to a terminal: control characters (C0 but
 * the line feeds that make multi-line cells, DEL, and the C1 controls
 * U+0080-U+009F, whose U+009B starts an escape sequence like ESC [ does)
 * become \xNN or \u00NN, so that a file name or a server value cannot move
 * the cursor, recolour or retitle the terminal.  Every byte that is left
 * has a display width, so the columns stay aligned.  NULL stays NULL.
 */
static char *
escape_cell(const char *s)
{
	PQExpBufferData buf;
	const unsigned char *p = (const unsigned char *) s;

	if (s == NULL)
		return NULL;
	initPQExpBuffer(&buf);
	for (; *p; p++)
	{
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			appendPQExpBuffer(&buf, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		{
			appendPQExpBuffer(&buf, "\\u%04x", p[1]);
			p++;
		}
		else
			appendPQExpBufferChar(&buf, (char) *p);
	}
	return buf.data;
}

/* the width of each column: its widest line, header included */
static int *
column_widths(int ncols, const char *const *headers, int nrows,
			  char *const *cells)
{
	int		   *width = pg_malloc0(sizeof(int) * (ncols + 1));

	for (int c = 0; c < ncols; c++)
	{
		width[c] = cell_width(headers[c]);
		for (int r = 0; r < nrows; r++)
		{
			const char *v = cells[r * ncols + c];
			int			w = v ? cell_width(v) : 0;

			if (w > width[c])
				width[c] = w;
		}
	}
	return width;
}

/* the header line, centred as psql does, then the rule under it */
static void
print_header(int ncols, const char *const *headers, const int *width)
{
	PQExpBuffer line = createPQExpBuffer();

	for (int c = 0; c < ncols; c++)
	{
		int			w = display_width(headers[c], strlen(headers[c]));
		int			left = (width[c] - w) / 2;

		appendPQExpBufferStr(line, c ? "| " : " ");
		appendPQExpBuffer(line, "%*s%s%*s ", left, "", headers[c],
						  width[c] - w - left, "");
	}
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->data[--line->len] = '\0';
	puts(line->data);
	destroyPQExpBuffer(line);

	for (int c = 0; c < ncols; c++)
	{
		if (c)
			putchar('+');
		for (int i = 0; i < width[c] + 2; i++)
			putchar('-');
	}
	putchar('\n');
}

/* one line of a cell, in colour on a terminal when it is a state */
static void
print_cell_text(const char *header, const char *s, int len)
{
	const char *color = NULL;

	if (out_opts && out_opts->color)
		color = value_color(header, s);
	if (color)
		fputs(color, stdout);
	fwrite(s, 1, len, stdout);
	if (color)
		fputs(COLOR_RESET, stdout);
}

/*
 * One output line of a row: the next line of each cell (pos[c], advanced;
 * NULL once the cell is done).  Blanks are held back until something
 * follows them, so that no line ends in blanks.  Returns whether a cell
 * continues on the next line.
 */
static bool
print_row_line(int ncols, const char *const *headers, const bool *right,
			   const int *width, const char **pos)
{
	int			pending_blanks = 0;
	bool		more = false;

	for (int c = 0; c < ncols; c++)
	{
		const char *s = pos[c];
		int			len = s ? line_length(s) : 0;
		int			w = s ? display_width(s, len) : 0;

		if (c > 0)
		{
			print_padding(pending_blanks);
			putchar('|');
		}
		pending_blanks = 1;
		if (right[c])
		{
			print_padding(pending_blanks + width[c] - w);
			pending_blanks = 0;
		}
		if (len > 0)
		{
			print_padding(pending_blanks);
			pending_blanks = 0;
			print_cell_text(headers[c], s, len);
		}
		if (!right[c])
			pending_blanks += width[c] - w;
		if (s && s[len] == '\n')
		{
			print_padding(pending_blanks);
			pending_blanks = 0;
			putchar('+');
			pos[c] = s + len + 1;
			more = true;
		}
		else
		{
			pending_blanks++;
			pos[c] = NULL;
		}
	}
	putchar('\n');
	return more;
}

/*
 * Print a table as psql's aligned format does: headers centred, a rule,
 * " | " between columns, numbers right-aligned, a cell of several lines
 * continued with "+", and "(N rows)".  No trailing blanks (CI logs), no
 * control characters (escape_cell).  cells[row * ncols + col]; NULL
 * prints as nothing.
 */
static void
print_aligned(int ncols, const char *const *headers, const bool *right,
			  int nrows, const char *const *cells)
{
	size_t		ncells = (size_t) nrows * ncols;
	char	  **safe_headers = pg_malloc(sizeof(char *) * (ncols + 1));
	char	  **safe = pg_malloc(sizeof(char *) * (ncells + 1));
	const char **pos = pg_malloc(sizeof(char *) * (ncols + 1));
	int		   *width;

	for (int c = 0; c < ncols; c++)
		safe_headers[c] = escape_cell(headers[c]);
	for (size_t i = 0; i < ncells; i++)
		safe[i] = escape_cell(cells[i]);
	width = column_widths(ncols, (const char *const *) safe_headers, nrows, safe);

	print_header(ncols, (const char *const *) safe_headers, width);
	for (int r = 0; r < nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
			pos[c] = safe[r * ncols + c] ? safe[r * ncols + c] : "";
		/* one output line per line of the tallest cell */
		while (print_row_line(ncols, (const char *const *) safe_headers,
							  right, width, pos))
			;
	}
	printf("(%d %s)\n", nrows, nrows == 1 ? "row" : "rows");

	for (int c = 0; c < ncols; c++)
		free(safe_headers[c]);
	for (size_t i = 0; i < ncells; i++)
		free(safe[i]);
	free(safe_headers);
	free(safe);
	free(pos);
	free(width);
}

static bool
is_numeric_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID ||
		type == OIDOID || type == FLOAT4OID || type == FLOAT8OID ||
		type == NUMERICOID;
}

/*
 * A query result: a table on stdout, or with --json an array of objects
 * (one per row, keyed by column name) under "key" in the document.
 */
void
out_table(const PGresult *res, const char *key)
{
	int			ncols = PQnfields(res);
	int			nrows = PQntuples(res);

	if (json_mode())
	{
		JsonRun    *run = current_run();

		json_key(run->fields, key ? key : "rows");
		appendPQExpBufferChar(run->fields, '[');
		for (int r = 0; r < nrows; r++)
		{
			appendPQExpBufferStr(run->fields, r ? ", {" : "{");
			for (int c = 0; c < ncols; c++)
			{
				if (c)
					appendPQExpBufferStr(run->fields, ", ");
				json_escape(run->fields, PQfname(res, c));
				appendPQExpBufferStr(run->fields, ": ");
				json_value(run->fields, res, r, c);
			}
			appendPQExpBufferChar(run->fields, '}');
		}
		appendPQExpBufferChar(run->fields, ']');
		return;
	}
	if (quiet_mode())
		return;
	{
		const char **headers = pg_malloc(sizeof(char *) * (ncols + 1));
		bool	   *right = pg_malloc(sizeof(bool) * (ncols + 1));
		const char **cells = pg_malloc(sizeof(char *) * ((size_t) nrows * ncols + 1));

		for (int c = 0; c < ncols; c++)
		{
			headers[c] = PQfname(res, c);
			right[c] = is_numeric_type(PQftype(res, c));
		}
		for (int r = 0; r < nrows; r++)
			for (int c = 0; c < ncols; c++)
				cells[r * ncols + c] = PQgetisnull(res, r, c) ? NULL :
					PQgetvalue(res, r, c);
		print_aligned(ncols, headers, right, nrows, cells);
		free(headers);
		free(right);
		free(cells);
	}
}

/*
 * out_table() of the named columns of a result that it has, in that order:
 * a query that reads a view or a function with SELECT * keeps working on a
 * server whose version lacks a newer column, and shows it where it exists.
 */
void
out_table_columns(const PGresult *res, const char *key,
				  const char *const *names, int nnames)
{
	const char **headers = pg_malloc(sizeof(char *) * (nnames + 1));
	bool	   *numeric = pg_malloc0(sizeof(bool) * (nnames + 1));
	int		   *cols = pg_malloc(sizeof(int) * (nnames + 1));
	int			ncols = 0;
	int			nrows = PQntuples(res);
	char	  **cells;

	for (int i = 0; i < nnames; i++)
	{
		int			c = PQfnumber(res, names[i]);

		if (c < 0)
			continue;
		headers[ncols] = names[i];
		numeric[ncols] = is_numeric_type(PQftype(res, c));
		cols[ncols++] = c;
	}
	if (json_mode())
	{
		/* typed as out_table() types them: booleans, numbers, arrays */
		JsonRun    *run = current_run();

		json_key(run->fields, key ? key : "rows");
		appendPQExpBufferChar(run->fields, '[');
		for (int r = 0; r < nrows; r++)
		{
			appendPQExpBufferStr(run->fields, r ? ", {" : "{");
			for (int c = 0; c < ncols; c++)
			{
				if (c)
					appendPQExpBufferStr(run->fields, ", ");
				json_escape(run->fields, headers[c]);
				appendPQExpBufferStr(run->fields, ": ");
				json_value(run->fields, res, r, cols[c]);
			}
			appendPQExpBufferChar(run->fields, '}');
		}
		appendPQExpBufferChar(run->fields, ']');
		cells = NULL;
	}
	else
	{
		cells = pg_malloc(sizeof(char *) * ((size_t) nrows * ncols + 1));
		for (int r = 0; r < nrows; r++)
			for (int c = 0; c < ncols; c++)
				cells[r * ncols + c] = PQgetisnull(res, r, cols[c]) ? NULL :
					PQgetvalue(res, r, cols[c]);
		out_rows_typed(key, ncols, headers, numeric, nrows, cells);
	}
	free(headers);
	free(numeric);
	free(cols);
	free(cells);
}

/*
 * Rows the client built itself (files, validate): a table, or with --json
 * an array of objects whose values are strings (NULL: null).
 */
void
out_rows(const char *key, int ncols, const char *const *headers, int nrows,
		 char *const *cells)
{
	out_rows_typed(key, ncols, headers, NULL, nrows, cells);
}

/*
 * out_rows() with numeric columns (numeric[c], or NULL for none): those are
 * right-aligned in a table and JSON numbers in --json, as out_table() does
 * for the numeric columns of a query result.
 */
void
out_rows_typed(const char *key, int ncols, const char *const *headers,
			   const bool *numeric, int nrows, char *const *cells)
{
	if (json_mode())
	{
		JsonRun    *run = current_run();

		json_key(run->fields, key ? key : "rows");
		appendPQExpBufferChar(run->fields, '[');
		for (int r = 0; r < nrows; r++)
		{
			appendPQExpBufferStr(run->fields, r ? ", {" : "{");
			for (int c = 0; c < ncols; c++)
			{
				const char *v = cells[r * ncols + c];

				if (c)
					appendPQExpBufferStr(run->fields, ", ");
				json_escape(run->fields, headers[c]);
				appendPQExpBufferStr(run->fields, ": ");
				if (v == NULL)
					appendPQExpBufferStr(run->fields, "null");
				else if (numeric && numeric[c] && is_json_number(v))
					appendPQExpBufferStr(run->fields, v);
				else
					json_escape(run->fields, v);
			}
			appendPQExpBufferChar(run->fields, '}');
		}
		appendPQExpBufferChar(run->fields, ']');
		return;
	}
	if (quiet_mode())
		return;
	{
		bool	   *right = pg_malloc0(sizeof(bool) * (ncols + 1));

		for (int c = 0; numeric && c < ncols; c++)
			right[c] = numeric[c];
		print_aligned(ncols, headers, right, nrows, (const char *const *) cells);
		free(right);
	}
}

/* --------------------------------------------------------------------
 * Messages
 * --------------------------------------------------------------------
 */

/* a line for people: stdout, not with --quiet, not in --json */
void
out_info(const char *fmt,...)
{
	va_list		ap;

	if (quiet_mode() || json_mode())
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --verbose: what the client does (the SQL it sends), on stderr */
void
out_verbose(const char *fmt,...)
{
	va_list		ap;

	if (out_opts == NULL || !out_opts->verbose)
		return;
	fflush(stdout);
	fprintf(stderr, "pg_migrate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* one element of "messages" or "errors" */
static void
json_message(PQExpBuffer array, const char *severity, const char *sqlstate,
			 const char *message, const char *detail, const char *hint,
			 const char *context)
{
	if (array->len > 0)
		appendPQExpBufferStr(array, ", ");
	appendPQExpBufferStr(array, "{\"severity\": ");
	json_escape(array, severity);
	appendPQExpBufferStr(array, ", \"sqlstate\": ");
	if (sqlstate)
		json_escape(array, sqlstate);
	else
		appendPQExpBufferStr(array, "null");
	appendPQExpBufferStr(array, ", \"message\": ");
	json_escape(array, message ? message : "");
	appendPQExpBufferStr(array, ", \"detail\": ");
	if (detail)
		json_escape(array, detail);
	else
		appendPQExpBufferStr(array, "null");
	appendPQExpBufferStr(array, ", \"hint\": ");
	if (hint)
		json_escape(array, hint);
	else
		appendPQExpBufferStr(array, "null");
	appendPQExpBufferStr(array, ", \"context\": ");
	if (context)
		json_escape(array, context);
	else
		appendPQExpBufferStr(array, "null");
	appendPQExpBufferChar(array, '}');
}

/* a detail or hint for the open error: added, or a line more */
static void
amend_error(const char *what, const char *text)
{
	JsonRun    *run = current_run();
	char	  **field;

	if (run->last_error == NULL)
		add_error("ERROR", NULL, "", NULL, NULL, NULL);
	field = strcmp(what, "hint") == 0 ? &run->last_error->hint :
		&run->last_error->detail;
	if (*field == NULL)
		*field = pg_strdup(text);
	else
	{
		char	   *joined = psprintf("%s\n%s", *field, text);

		free(*field);
		*field = joined;
	}
}

/* a formatted message, allocated (libpq does not export its VA appender) */
static char *
vformat(const char *fmt, va_list ap)
{
	va_list		ap2;
	int			len;
	char	   *buf;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		return pg_strdup(fmt);
	buf = pg_malloc(len + 1);
	vsnprintf(buf, len + 1, fmt, ap);
	return buf;
}

static void
vout_error(const char *fmt, va_list ap)
{
	char	   *msg = vformat(fmt, ap);
	size_t		len = strlen(msg);

	/* libpq's messages end with a newline: one is enough */
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	/* what stdout says first comes first in a log of both */
	fflush(stdout);
	fprintf(stderr, "pg_migrate: error: %s\n", msg);
	if (json_mode())
		add_error("ERROR", NULL, msg, NULL, NULL, NULL);
	free(msg);
}

/* a client-side error: stderr always, and into the document */
void
out_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vout_error(fmt, ap);
	va_end(ap);
}

/*
 * "pg_migrate: detail: ..." / "pg_migrate: hint: ..." after out_error(), as
 * PostgreSQL 15's client programs print them; in --json added to the last
 * error.
 */
static void
vout_annotate(const char *what, const char *fmt, va_list ap)
{
	char	   *msg = vformat(fmt, ap);

	fflush(stdout);
	fprintf(stderr, "pg_migrate: %s: %s\n", what, msg);
	if (json_mode())
		amend_error(what, msg);
	free(msg);
}

void
out_detail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vout_annotate("detail", fmt, ap);
	va_end(ap);
}

void
out_hint(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vout_annotate("hint", fmt, ap);
	va_end(ap);
}

/* psql's "DETAIL:  ..." lines for a server message's fields */
static void
print_fields(FILE *f, const PGresult *res)
{
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);

	if (detail)
		fprintf(f, "DETAIL:  %s\n", detail);
	if (hint)
		fprintf(f, "HINT:  %s\n", hint);
	if (context)
		fprintf(f, "CONTEXT:  %s\n", context);
}

/*
 * An error the server (or libpq) reported: "pg_migrate: error: MESSAGE" and
 * the DETAIL, HINT and CONTEXT lines as psql prints them; the SQLSTATE with
 * --verbose ("error: 42704: ...", psql's \set VERBOSITY verbose) and always
 * in --json.  res may be NULL (a connection failure, a lost connection).
 */
void
out_pg_error(PGconn *conn, const PGresult *res)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *sqlstate;

	if (primary == NULL)
	{
		/* no fields: libpq's own message, or the connection's */
		const char *msg = res ? PQresultErrorMessage(res) : "";

		if (*msg == '\0' && conn)
			msg = PQerrorMessage(conn);
		out_error("%s", *msg ? msg : "unknown error");
		return;
	}
	sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	fflush(stdout);
	if (out_opts && out_opts->verbose && sqlstate)
		fprintf(stderr, "pg_migrate: error: %s: %s\n", sqlstate, primary);
	else
		fprintf(stderr, "pg_migrate: error: %s\n", primary);
	print_fields(stderr, res);
	if (json_mode())
		add_error(PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED),
				  sqlstate, primary,
				  PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
				  PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
				  PQresultErrorField(res, PG_DIAG_CONTEXT));
}

/*
 * libpq's notice receiver (connect.c installs it on every connection).
 * NOTICE and INFO, such as apply()'s "applying 3 of 7: 003 orders", are
 * progress lines on stdout; a WARNING goes to stderr with its DETAIL and
 * HINT; --quiet shows neither.  With --json they go into "messages".
 */
void
out_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (severity == NULL)
		severity = "NOTICE";
	if (primary == NULL)
		primary = PQresultErrorMessage(res);
	if (json_mode())
	{
		json_message(current_run()->messages, severity,
					 PQresultErrorField(res, PG_DIAG_SQLSTATE), primary,
					 PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
					 PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
					 PQresultErrorField(res, PG_DIAG_CONTEXT));
		return;
	}
	if (quiet_mode())
		return;
	if (strcmp(severity, "WARNING") == 0)
	{
		fflush(stdout);
		fprintf(stderr, "pg_migrate: warning: %s\n", primary);
		print_fields(stderr, res);
		return;
	}
	printf("%s\n", primary);
	if (out_opts && out_opts->verbose)
	{
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

		if (detail)
			printf("DETAIL:  %s\n", detail);
	}
	fflush(stdout);
}
