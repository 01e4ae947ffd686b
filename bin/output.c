/*-------------------------------------------------------------------------
 *
 * output.c
 *		Tables on a terminal, --json documents, colour, --quiet (stub: wp10-2).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <stdarg.h>

static const ClientOptions *out_opts;

void
out_init(const ClientOptions *opts)
{
	out_opts = opts;
}

void
out_table(const PGresult *res, const char *title)
{
	PQprintOpt	po = {0};

	po.header = 1;
	po.align = 1;
	po.fieldSep = "|";
	PQprint(stdout, res, &po);
}

void
out_rows(const char *key, int ncols, const char *const *headers, int nrows,
		 char *const *cells)
{
	for (int r = 0; r < nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
			printf("%s%s", c ? " | " : "", cells[r * ncols + c] ? cells[r * ncols + c] : "");
		putchar('\n');
	}
}

void
out_json_field(const char *key, const char *value)
{
}

void
out_json_flush(void)
{
}

void
out_info(const char *fmt,...)
{
	va_list		ap;

	if (out_opts && out_opts->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
out_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "pg_migrate: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
out_pg_error(PGconn *conn, const PGresult *res)
{
	fprintf(stderr, "pg_migrate: error: %s",
			res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
}
