/*-------------------------------------------------------------------------
 *
 * newfile.c
 *		The "new" command: the files of a new migration, in the layout of
 *		the migrations directory, with a filled-in metadata header.
 *
 *	 pg_migrate new "add user preferences table" --risk-level low
 *
 * writes, in a directory of the project's own layout (the default for an
 * empty or missing directory),
 *
 *	 migrations/20261130120000__add_user_preferences_table.up.sql
 *	 migrations/20261130120000__add_user_preferences_table.down.sql
 *
 * and the equivalent in every other layout (one file for dbmate, a
 * directory for Diesel, a plan line and three scripts for Sqitch).  The
 * version follows the directory's style: the next number after the
 * highest one when the versions are numbers (001, 002 -> 003), otherwise
 * the current UTC time.  No database is involved, and an existing file is
 * never overwritten.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLUG 60

/* one file to write: path relative to the directory, text */
typedef struct NewFile
{
	char	   *path;
	char	   *text;
	bool		append;			/* sqitch.plan: add a line */
} NewFile;

typedef struct NewMigration
{
	const ClientOptions *opts;
	const char *description;
	char	   *slug;
	char	   *version;
	char	   *author;
	char	   *email;
	const char *up_body;		/* NULL: a placeholder (baseline --generate) */
	MigrationSet set;			/* what the directory holds already */
	NewFile		files[4];
	int			nfiles;
} NewMigration;

/* lower case, [a-z0-9_], runs of anything else become one "_" */
static char *
make_slug(const char *description)
{
	char	   *slug = pg_malloc(strlen(description) + 1);
	char	   *out = slug;

	for (const char *p = description; *p && out - slug < MAX_SLUG; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (isalnum(c) && c < 128)
			*out++ = tolower(c);
		else if (out > slug && out[-1] != '_')
			*out++ = '_';
	}
	while (out > slug && out[-1] == '_')
		out--;
	*out = '\0';
	return slug;
}

/* first line of a command's output, or NULL; used for git config only */
static char *
command_line(const char *command)
{
	FILE	   *f = popen(command, "r");
	char		buf[256];
	char	   *result = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) != NULL)
	{
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0')
			result = pg_strdup(buf);
	}
	pclose(f);
	return result;
}

static void
find_author(NewMigration *nm)
{
	const char *user = getenv("USER");

	if (user == NULL)
		user = getenv("LOGNAME");
	nm->author = command_line("git config user.name 2>/dev/null");
	if (nm->author == NULL)
		nm->author = pg_strdup(user ? user : "unknown");
	nm->email = command_line("git config user.email 2>/dev/null");
	if (nm->email == NULL)
		nm->email = psprintf("%s@localhost", user ? user : "unknown");
}

static char *
format_now(const char *format, bool utc)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		buf[64];

	if (utc)
		gmtime_r(&now, &tm);
	else
		localtime_r(&now, &tm);
	strftime(buf, sizeof(buf), format, &tm);
	return pg_strdup(buf);
}

/* a string of digits plus one, keeping its width (0099 -> 0100) */
static char *
increment_digits(const char *digits, int width)
{
	int			len = strlen(digits);
	int			size = Max(len, width) + 2;
	char	   *result = pg_malloc(size);
	int			carry = 1;

	/* right-align into result[1..], leaving room for a carry digit */
	memset(result, '0', size - 1);
	result[size - 1] = '\0';
	memcpy(result + size - 1 - len, digits, len);
	for (int i = size - 2; i >= 0 && carry; i--)
	{
		if (result[i] == '9')
			result[i] = '0';
		else
		{
			result[i]++;
			carry = 0;
		}
	}
	if (result[0] == '0')
		memmove(result, result + 1, size - 1);
	return result;
}

/*
 * The version of the new migration.  Numbers continue the sequence of a
 * directory whose versions are all numbers other than 14-digit
 * timestamps; otherwise the current UTC time in the layout's form.
 */
static char *
choose_version(NewMigration *nm, const char *layout)
{
	const MigrationSet *set = &nm->set;
	bool		numeric = set->nfiles > 0;
	bool		timestamps = set->nfiles > 0;
	int			width = 0;
	const char *max = NULL;
	char	   *now;

	if (strcmp(layout, "diesel") == 0)
		return format_now("%Y-%m-%d-%H%M%S", true);
	for (int i = 0; i < set->nfiles; i++)
	{
		const char *v = set->files[i].version;
		size_t		len = strlen(v);

		if (set->files[i].repeatable)
			continue;
		if (strspn(v, "0123456789") != len || len == 14)
			numeric = false;
		if (strspn(v, "0123456789") != len || len != 14)
			timestamps = false;
		width = Max(width, (int) len);
		max = v;				/* files are in version order */
	}
	if (strcmp(layout, "flyway") == 0 && set->nfiles == 0)
		return pg_strdup("1");
	if (strcmp(layout, "numbered") == 0 && set->nfiles == 0)
		return pg_strdup("001");
	if (numeric && max != NULL)
		return increment_digits(max, width);
	if (strcmp(layout, "flyway") == 0 && max != NULL)
	{
		/* dotted Flyway versions: the next major version */
		char	   *major = pnstrdup(max, strspn(max, "0123456789"));
		char	   *next = increment_digits(major[0] ? major : "0", 1);

		free(major);
		return next;
	}
	now = format_now("%Y%m%d%H%M%S", true);
	if (timestamps && max != NULL && strcmp(now, max) <= 0)
	{
		/* a clock behind the newest file: still sort after it */
		free(now);
		now = increment_digits(max, 14);
	}
	return now;
}

/* the metadata header every up script starts with */
static char *
up_header(NewMigration *nm, bool with_dependencies)
{
	const ClientOptions *opts = nm->opts;
	PQExpBufferData buf;
	char	   *created = format_now("%Y-%m-%d", false);

	initPQExpBuffer(&buf);
	appendPQExpBuffer(&buf, "-- Description: %s\n", nm->description);
	appendPQExpBuffer(&buf, "-- Author: %s\n", nm->author);
	appendPQExpBuffer(&buf, "-- Created: %s\n", created);
	if (with_dependencies && opts->ndepends_on > 0)
	{
		appendPQExpBufferStr(&buf, "-- @dependencies: ");
		for (int i = 0; i < opts->ndepends_on; i++)
			appendPQExpBuffer(&buf, "%s%s", i ? ", " : "", opts->depends_on[i]);
		appendPQExpBufferChar(&buf, '\n');
	}
	if (opts->risk_level)
		appendPQExpBuffer(&buf, "-- @risk-level: %s\n", opts->risk_level);
	if (opts->zero_downtime)
		appendPQExpBufferStr(&buf, "-- @zero-downtime: true\n");
	if (opts->estimated_duration)
		appendPQExpBuffer(&buf, "-- @estimated-duration: %s\n",
						  opts->estimated_duration);
	free(created);
	return buf.data;
}

static void
add_file(NewMigration *nm, char *path, char *text)
{
	if (text == NULL)
		return;
	nm->files[nm->nfiles].path = path;
	nm->files[nm->nfiles].text = text;
	nm->files[nm->nfiles].append = false;
	nm->nfiles++;
}

static char *
up_text(NewMigration *nm)
{
	char	   *header = up_header(nm, true);
	char	   *text = psprintf("%s\n%s", header,
								nm->up_body ? nm->up_body : "-- the migration's SQL goes here\n");

	free(header);
	return text;
}

static char *
down_text(NewMigration *nm)
{
	/* a generated baseline has no down script: nothing undoes a schema */
	if (nm->up_body != NULL)
		return NULL;
	return psprintf("-- Reverts \"%s\" (version %s).\n\n-- the SQL that undoes it goes here\n",
					nm->description, nm->version);
}

/* the files of every layout but Sqitch's */
static void
plan_files(NewMigration *nm, const char *layout, LayoutContext *ctx)
{
	const char *v = nm->version;
	const char *s = nm->slug;

	if (strcmp(layout, "migrate") == 0)
	{
		add_file(nm, psprintf("%s__%s.up.sql", v, s), up_text(nm));
		add_file(nm, psprintf("%s__%s.down.sql", v, s), down_text(nm));
	}
	else if (strcmp(layout, "golang") == 0)
	{
		add_file(nm, psprintf("%s_%s.up.sql", v, s), up_text(nm));
		add_file(nm, psprintf("%s_%s.down.sql", v, s), down_text(nm));
	}
	else if (strcmp(layout, "numbered") == 0 || strcmp(layout, "timestamp") == 0)
	{
		DirEntry   *rollback = find_entry(ctx, "rollback");

		add_file(nm, psprintf("%s_%s.sql", v, s), up_text(nm));
		if (rollback != NULL && rollback->is_dir)
			add_file(nm, psprintf("rollback/%s_rollback.sql", v), down_text(nm));
		else
			add_file(nm, psprintf("%s_%s_rollback.sql", v, s), down_text(nm));
	}
	else if (strcmp(layout, "flyway") == 0)
	{
		add_file(nm, psprintf("V%s__%s.sql", v, s), up_text(nm));
		add_file(nm, psprintf("U%s__%s.sql", v, s), down_text(nm));
	}
	else if (strcmp(layout, "dbmate") == 0)
	{
		char	   *up = up_text(nm);
		char	   *down = down_text(nm);

		add_file(nm, psprintf("%s_%s.sql", v, s),
				 psprintf("-- migrate:up\n%s\n-- migrate:down\n%s", up, down ? down : ""));
		free(up);
		free(down);
	}
	else if (strcmp(layout, "diesel") == 0)
	{
		add_file(nm, psprintf("%s_%s/up.sql", v, s), up_text(nm));
		add_file(nm, psprintf("%s_%s/down.sql", v, s), down_text(nm));
	}
}

/*
 * Sqitch: a plan line (requires are change names, so --depends-on
 * versions are mapped to the names of those changes) and the three
 * scripts, in Sqitch's BEGIN/COMMIT style.
 */
static bool
plan_sqitch(NewMigration *nm)
{
	const ClientOptions *opts = nm->opts;
	PQExpBufferData line;
	char	   *header;
	char	   *stamp = format_now("%Y-%m-%dT%H:%M:%SZ", true);

	for (int i = 0; i < nm->set.nfiles; i++)
		if (strcmp(nm->set.files[i].name, nm->slug) == 0)
		{
			out_error("change \"%s\" is already in %s/sqitch.plan",
					  nm->slug, nm->set.dir);
			return false;
		}
	initPQExpBuffer(&line);
	appendPQExpBufferStr(&line, nm->slug);
	for (int d = 0; d < opts->ndepends_on; d++)
	{
		const char *name = NULL;

		for (int i = 0; i < nm->set.nfiles && name == NULL; i++)
			if (version_compare(nm->set.files[i].version, opts->depends_on[d]) == 0 ||
				strcmp(nm->set.files[i].name, opts->depends_on[d]) == 0)
				name = nm->set.files[i].name;
		if (name == NULL)
		{
			out_error("--depends-on \"%s\" names no change of %s/sqitch.plan",
					  opts->depends_on[d], nm->set.dir);
			return false;
		}
		appendPQExpBuffer(&line, "%s%s", d ? " " : " [", name);
	}
	if (opts->ndepends_on > 0)
		appendPQExpBufferChar(&line, ']');
	appendPQExpBuffer(&line, " %s %s <%s> # %s\n", stamp, nm->author, nm->email,
					  nm->description);

	header = up_header(nm, false);
	nm->files[nm->nfiles].path = pg_strdup("sqitch.plan");
	nm->files[nm->nfiles].text = line.data;
	nm->files[nm->nfiles].append = true;
	nm->nfiles++;
	add_file(nm, psprintf("deploy/%s.sql", nm->slug),
			 psprintf("%s\nBEGIN;\n\n-- the change's SQL goes here\n\nCOMMIT;\n", header));
	add_file(nm, psprintf("revert/%s.sql", nm->slug),
			 psprintf("-- Revert %s\n\nBEGIN;\n\n-- the SQL that undoes it goes here\n\nCOMMIT;\n",
					  nm->slug));
	add_file(nm, psprintf("verify/%s.sql", nm->slug),
			 psprintf("-- Verify %s\n\nBEGIN;\n\n-- XXX Add verifications here.\n\nROLLBACK;\n",
					  nm->slug));
	free(header);
	free(stamp);
	return true;
}

/* mkdir -p of the directories leading to dir/relpath */
static bool
make_parents(const char *dir, const char *relpath)
{
	char	   *path = psprintf("%s/%s", dir, relpath);

	for (char *p = path + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
		{
			out_error("could not create directory \"%s\": %m", path);
			free(path);
			return false;
		}
		*p = '/';
	}
	free(path);
	return true;
}

static bool
write_file(const char *path, const char *text, bool append)
{
	int			fd = open(path, O_WRONLY | (append ? O_APPEND : O_CREAT | O_EXCL), 0666);
	size_t		len = strlen(text);

	if (fd < 0)
	{
		out_error("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len)
	{
		out_error("could not write file \"%s\": %m", path);
		close(fd);
		return false;
	}
	if (close(fd) != 0)
	{
		out_error("could not write file \"%s\": %m", path);
		return false;
	}
	return true;
}

/* does the plan end without a newline? (then the new line needs one first) */
static bool
plan_needs_newline(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	bool		needs = false;

	if (f == NULL)
		return false;
	if (fseek(f, -1, SEEK_END) == 0)
		needs = (fgetc(f) != '\n');
	fclose(f);
	return needs;
}

/*
 * check every path first, so that nothing is written when one exists;
 * then write them, printing each path (with --json: layout, version, name
 * and the paths under "files")
 */
static bool
write_all(NewMigration *nm, const char *dir, const char *layout)
{
	static const char *const headers[] = {"path"};
	char	   *written[lengthof(nm->files)];
	struct stat st;

	for (int i = 0; i < nm->nfiles; i++)
	{
		char	   *path = psprintf("%s/%s", dir, nm->files[i].path);

		if (!nm->files[i].append && lstat(path, &st) == 0)
		{
			out_error("file \"%s\" already exists", path);
			return false;
		}
		free(path);
	}
	for (int i = 0; i < nm->nfiles; i++)
	{
		char	   *path = psprintf("%s/%s", dir, nm->files[i].path);
		char	   *text = nm->files[i].text;

		if (nm->files[i].append && plan_needs_newline(path))
			text = psprintf("\n%s", text);
		if (!make_parents(dir, nm->files[i].path) ||
			!write_file(path, text, nm->files[i].append))
			return false;
		out_info("%s", path);
		written[i] = path;
	}
	out_json_field("layout", layout);
	out_json_field("version", nm->version);
	out_json_field("name", nm->slug);
	if (nm->opts->json)
		out_rows("files", 1, headers, nm->nfiles, written);
	return true;
}

static bool
check_new_options(const ClientOptions *opts)
{
	if (opts->nargs != 1 || opts->args[0][0] == '\0')
	{
		out_error("\"new\" needs one argument, the description of the migration, for example: pg_migrate new \"add user preferences table\"");
		return false;
	}
	if (strpbrk(opts->args[0], "\r\n") != NULL)
	{
		out_error("the description must be a single line");
		return false;
	}
	if (opts->risk_level &&
		pg_strcasecmp(opts->risk_level, "low") != 0 &&
		pg_strcasecmp(opts->risk_level, "medium") != 0 &&
		pg_strcasecmp(opts->risk_level, "high") != 0)
	{
		out_error("invalid value for --risk-level: \"%s\" (use low, medium or high)",
				  opts->risk_level);
		return false;
	}
	if (opts->estimated_duration && strpbrk(opts->estimated_duration, "\r\n"))
	{
		out_error("invalid value for --estimated-duration: it must be a single line");
		return false;
	}
	for (int i = 0; i < opts->ndepends_on; i++)
		if (!version_is_valid(opts->depends_on[i]))
		{
			out_error("invalid version \"%s\" for --depends-on: a version has 1 to 128 letters, digits, \".\", \"_\" or \"-\", and starts with a letter or digit",
					  opts->depends_on[i]);
			return false;
		}
	return true;
}

int
cmd_new(const ClientOptions *opts)
{
	if (!check_new_options(opts))
		return EXIT_USAGE;
	return new_migration_files(opts, opts->args[0], NULL);
}

/*
 * The files of a new migration described so, in the directory's layout;
 * up_body replaces the placeholder SQL, and then no down file is written
 * (pg_migrate baseline --generate, bin/adopt.c).
 */
int
new_migration_files(const ClientOptions *opts, const char *description, const char *up_body)
{
	NewMigration nm;
	LayoutContext ctx;
	const LayoutDef *def;
	char	   *errmsg;

	memset(&nm, 0, sizeof(nm));
	memset(&ctx, 0, sizeof(ctx));
	nm.opts = opts;
	nm.description = description;
	nm.up_body = up_body;
	nm.slug = make_slug(nm.description);
	if (nm.slug[0] == '\0')
	{
		out_error("the description \"%s\" has no letter or digit to name the file after",
				  nm.description);
		return EXIT_USAGE;
	}

	/* the layout: --layout, else the directory's, else the project's own */
	if (!list_directory(&ctx, opts->dir, false))
	{
		out_error("%s", ctx.errmsg);
		return EXIT_ERROR;
	}
	if (opts->layout)
		def = find_layout(opts->layout);
	else
		def = detect_layout(&ctx);
	if (ctx.errmsg != NULL)
	{
		out_error("%s", ctx.errmsg);
		return EXIT_ERROR;
	}
	if (def == NULL && opts->layout)
	{
		out_error("unknown layout \"%s\"", opts->layout);
		return EXIT_USAGE;
	}
	if (def == NULL)
		def = &layout_migrate;

	/* what is there already: versions to continue, names to avoid */
	nm.set.dir = pg_strdup(opts->dir);
	if (ctx.nentries > 0 && strcmp(def->name, "sqitch") != 0 &&
		!read_migrations(opts->dir, def->name, &nm.set, &errmsg) &&
		strncmp(errmsg, "no migration files found", 24) != 0)
	{
		out_error("%s", errmsg);
		return EXIT_ERROR;
	}
	if (strcmp(def->name, "sqitch") == 0 && find_entry(&ctx, "sqitch.plan") != NULL &&
		!read_migrations(opts->dir, def->name, &nm.set, &errmsg))
	{
		out_error("%s", errmsg);
		return EXIT_ERROR;
	}

	find_author(&nm);
	nm.version = choose_version(&nm, def->name);
	if (strcmp(def->name, "sqitch") == 0 && up_body != NULL)
	{
		out_error("a baseline cannot be written into a Sqitch plan: give a file name, pg_migrate baseline --generate FILE");
		return EXIT_USAGE;
	}
	if (strcmp(def->name, "sqitch") == 0)
	{
		if (find_entry(&ctx, "sqitch.plan") == NULL)
		{
			out_error("directory \"%s\" has no sqitch.plan (run \"sqitch init\" first)",
					  opts->dir);
			return EXIT_ERROR;
		}
		if (!plan_sqitch(&nm))
			return EXIT_ERROR;
	}
	else
		plan_files(&nm, def->name, &ctx);

	return write_all(&nm, opts->dir, def->name) ? EXIT_OK : EXIT_ERROR;
}
