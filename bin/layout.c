/*-------------------------------------------------------------------------
 *
 * layout.c
 *		Reading a migrations directory into a MigrationSet: detection of the
 *		layout (or --layout), the reading code every layout shares, version
 *		order, duplicate versions, checksums, and the "files" command.
 *
 * A layout is detected from the directory's entries alone: each layout
 * claims the entries that are its files (layout.h), and the directory must
 * be claimed by exactly one.  Nothing is sent to a server here, so a bad
 * directory (an unreadable file, invalid UTF-8, a duplicate version, a
 * file that is neither up nor down) is refused before anything is
 * registered.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb/pg_wchar.h"

/* every layout, in the order --help and error messages name them */
static const LayoutDef *const layouts[] = {
	&layout_migrate, &layout_numbered, &layout_timestamp, &layout_flyway,
	&layout_dbmate, &layout_golang, &layout_diesel, &layout_sqitch
};
#define NUM_LAYOUTS lengthof(layouts)

static const char *layout_name_list[NUM_LAYOUTS + 1];

const char *const *
layout_names(void)
{
	for (int i = 0; i < (int) NUM_LAYOUTS; i++)
		layout_name_list[i] = layouts[i]->name;
	layout_name_list[NUM_LAYOUTS] = NULL;
	return layout_name_list;
}

const LayoutDef *
find_layout(const char *name)
{
	for (int i = 0; i < (int) NUM_LAYOUTS; i++)
		if (strcmp(layouts[i]->name, name) == 0)
			return layouts[i];
	return NULL;
}

bool
layout_error(LayoutContext *ctx, const char *fmt,...)
{
	char		buf[4096];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ctx->errmsg == NULL)
		ctx->errmsg = pg_strdup(buf);
	return false;
}

/*
 * A warning about the files, printed at once on stderr: the reader goes
 * on.  Nothing else of the directory's reading is printed, and the
 * warning must reach the user even with --json or --quiet, since it says
 * that something the files ask for will not happen.
 */
void
layout_warning(LayoutContext *ctx, const char *fmt,...)
{
	va_list		ap;

	(void) ctx;
	/* a cached read would not say it again: never cache one that warns */
	cache_record_uncacheable();
	fflush(stdout);
	fprintf(stderr, "pg_migrate: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/* --------------------------------------------------------------------
 * The directory and its files
 * --------------------------------------------------------------------
 */

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const DirEntry *) a)->name, ((const DirEntry *) b)->name);
}

/*
 * List the entries of "dir" into ctx, sorted by name.  Hidden entries
 * (".gitkeep", ".DS_Store") are skipped.  A missing directory is an error
 * when must_exist, else an empty listing (pg_migrate new creates it).
 */
bool
list_directory(LayoutContext *ctx, const char *dir, bool must_exist)
{
	DIR		   *d;
	struct dirent *de;
	struct stat dst;
	int			alloc = 64;

	ctx->dir = dir;
	ctx->entries = NULL;
	ctx->nentries = 0;
	d = opendir(dir);
	if (d == NULL)
	{
		if (errno == ENOENT && !must_exist)
			return true;
		if (errno == ENOENT)
			return layout_error(ctx, "migrations directory \"%s\" does not exist", dir);
		return layout_error(ctx, "could not open directory \"%s\": %m", dir);
	}
	/* before the listing: an entry added meanwhile changes its times */
	if (fstat(dirfd(d), &dst) == 0)
		cache_record_stat(dir, &dst);
	else
		cache_record_uncacheable();
	ctx->entries = pg_malloc(sizeof(DirEntry) * alloc);
	while (errno = 0, (de = readdir(d)) != NULL)
	{
		DirEntry   *e;
		char	   *path;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (ctx->nentries == alloc)
		{
			alloc *= 2;
			ctx->entries = pg_realloc(ctx->entries, sizeof(DirEntry) * alloc);
		}
		e = &ctx->entries[ctx->nentries++];
		memset(e, 0, sizeof(*e));
		e->name = pg_strdup(de->d_name);
#ifdef DT_DIR
		if (de->d_type == DT_DIR || de->d_type == DT_REG)
		{
			/* the common case, without a stat() per file */
			e->is_dir = (de->d_type == DT_DIR);
			continue;
		}
#endif
		/* a symbolic link, or a file system without d_type */
		path = psprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0)
		{
			/* where the link points is an input too */
			cache_record_stat(path, &st);
			e->is_dir = S_ISDIR(st.st_mode);
		}
		else
		{
			cache_record_uncacheable();
			e->is_dir = false;
		}
		free(path);
	}
	if (errno != 0)
	{
		closedir(d);
		return layout_error(ctx, "could not read directory \"%s\": %m", dir);
	}
	closedir(d);
	qsort(ctx->entries, ctx->nentries, sizeof(DirEntry), entry_cmp);
	return true;
}

DirEntry *
find_entry(LayoutContext *ctx, const char *name)
{
	DirEntry	key = {0};

	if (ctx->nentries == 0)
		return NULL;
	key.name = (char *) name;
	return bsearch(&key, ctx->entries, ctx->nentries, sizeof(DirEntry),
				   entry_cmp);
}

bool
path_exists(LayoutContext *ctx, const char *relpath, bool *is_dir)
{
	char	   *path = psprintf("%s/%s", ctx->dir, relpath);
	struct stat st;
	bool		found = (stat(path, &st) == 0);

	if (found)
		cache_record_stat(path, &st);
	else if (errno == ENOENT)
		cache_record_absent(path);
	else
		cache_record_uncacheable();
	if (is_dir)
		*is_dir = found && S_ISDIR(st.st_mode);
	free(path);
	return found;
}

/*
 * Where a file's text stops being UTF-8, as "line L, byte offset O"
 * (offsets from 0, as hexdump shows them).  pg_encoding_verifymbstr()
 * returns how many bytes from the start are valid; a NUL byte counts as
 * invalid, since scripts travel as text.
 */
static bool
check_utf8(LayoutContext *ctx, const char *path, const char *text, size_t len)
{
	int			valid;
	int			line = 1;

	if (len > (size_t) INT_MAX)
		return layout_error(ctx, "file \"%s\" is too large", path);
	valid = pg_encoding_verifymbstr(PG_UTF8, text, (int) len);
	if ((size_t) valid == len)
		return true;
	for (int i = 0; i < valid; i++)
		if (text[i] == '\n')
			line++;
	if (text[valid] == '\0')
		return layout_error(ctx, "file \"%s\" contains a NUL byte at line %d (byte offset %d)",
							path, line, valid);
	return layout_error(ctx, "file \"%s\" is not valid UTF-8: invalid byte sequence at line %d (byte offset %d)",
						path, line, valid);
}

/*
 * "s" with every byte that is not part of valid UTF-8 written as \xNN, so
 * that a message can name a file whose name is not UTF-8 without printing
 * the bad bytes themselves.
 */
static char *
escape_invalid_utf8(const char *s)
{
	PQExpBufferData buf;
	int			len = strlen(s);

	initPQExpBuffer(&buf);
	while (len > 0)
	{
		int			valid = pg_encoding_verifymbstr(PG_UTF8, s, len);

		appendBinaryPQExpBuffer(&buf, s, valid);
		s += valid;
		len -= valid;
		if (len > 0)
		{
			appendPQExpBuffer(&buf, "\\x%02X", (unsigned char) *s);
			s++;
			len--;
		}
	}
	return buf.data;
}

/* a NUL-terminated string that is valid UTF-8 */
static bool
is_utf8(const char *s)
{
	int			len = strlen(s);

	return pg_encoding_verifymbstr(PG_UTF8, s, len) == len;
}

/*
 * A migration's name (from its file name, or its directory's with Diesel)
 * is sent to the server as text, and its paths appear in messages: a name
 * that is not UTF-8 would only fail on the server, as an invalid
 * parameter naming no file.  Refuse it here, naming the file.
 */
static bool
check_utf8_name(LayoutContext *ctx, const char *relpath, const char *name)
{
	char	   *escaped;

	if (relpath == NULL || (is_utf8(relpath) && is_utf8(name)))
		return true;
	escaped = escape_invalid_utf8(relpath);
	layout_error(ctx, "file name \"%s/%s\" is not valid UTF-8 (the bytes shown as \\xNN are not): a migration's name and path must be UTF-8",
				 ctx->dir, escaped);
	free(escaped);
	return false;
}

static bool
check_utf8_names(LayoutContext *ctx)
{
	for (int i = 0; i < ctx->set->nfiles; i++)
	{
		MigrationFile *m = &ctx->set->files[i];

		if (!check_utf8_name(ctx, m->up_path, m->name) ||
			!check_utf8_name(ctx, m->down_path, m->name))
			return false;
	}
	return true;
}

/*
 * Read a file of the directory (relpath relative to it) as text.  The
 * caller owns the result.  Error messages name the file as the user
 * would: directory and relative path.
 */
char *
layout_read_file(LayoutContext *ctx, const char *relpath)
{
	char	   *path = psprintf("%s/%s", ctx->dir, relpath);
	int			fd;
	struct stat st;
	char	   *text;
	size_t		len = 0;
	size_t		alloc;
	ssize_t		n;

	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		layout_error(ctx, "could not open file \"%s\": %m", path);
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	/* before the contents: a change while they are read changes its times */
	cache_record_stat(path, &st);

	/*
	 * One read() of the size fstat() gave is enough for a regular file;
	 * anything else (or a file that grows) is read until EOF.
	 */
	alloc = (S_ISREG(st.st_mode) ? (size_t) st.st_size : 8191) + 1;
	text = pg_malloc(alloc);
	for (;;)
	{
		if (len + 1 == alloc)
		{
			if (S_ISREG(st.st_mode) && len == (size_t) st.st_size)
				break;
			alloc *= 2;
			text = pg_realloc(text, alloc);
		}
		n = read(fd, text + len, alloc - len - 1);
		if (n < 0)
		{
			layout_error(ctx, "could not read file \"%s\": %m", path);
			close(fd);
			free(text);
			free(path);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	text[len] = '\0';
	if (!check_utf8(ctx, path, text, len))
	{
		free(text);
		free(path);
		return NULL;
	}
	free(path);
	return text;
}

/* an entry's text, read once (detection and the reader share it) */
char *
entry_text(LayoutContext *ctx, DirEntry *entry)
{
	if (entry->text == NULL)
		entry->text = layout_read_file(ctx, entry->name);
	return entry->text;
}

char *
take_entry_text(LayoutContext *ctx, DirEntry *entry)
{
	char	   *text = entry_text(ctx, entry);

	entry->text = NULL;
	return text;
}

bool
has_suffix(const char *name, const char *suffix)
{
	size_t		n = strlen(name);
	size_t		s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

/*
 * Whether a directory entry is a file whose name parse reads as an up or
 * down file: how the layouts that go by file names alone claim an entry.
 */
bool
entry_parses(const DirEntry *entry, FileNameParser parse)
{
	char	   *version;
	char	   *name;

	if (entry->is_dir || parse(entry->name, &version, &name) == FILE_OTHER)
		return false;
	free(version);
	free(name);
	return true;
}

/*
 * The role of a "<stem>.up.sql" or "<stem>.down.sql" file name, with the
 * length of its stem; FILE_OTHER for any other name.  golang-migrate and
 * the project's own layout name their files so.
 */
FileRole
up_down_suffix(const char *filename, size_t *stem)
{
	if (has_suffix(filename, ".up.sql"))
	{
		*stem = strlen(filename) - strlen(".up.sql");
		return FILE_UP;
	}
	if (has_suffix(filename, ".down.sql"))
	{
		*stem = strlen(filename) - strlen(".down.sql");
		return FILE_DOWN;
	}
	return FILE_OTHER;
}

/*
 * Entries no layout reads and none complains about: anything that is not
 * a .sql file (README.md, a .toml, a .txt), and README* even when it ends
 * in .sql.  Subdirectories are the layout's business.
 */
bool
ignored_file(const DirEntry *entry)
{
	if (entry->is_dir)
		return false;
	if (pg_strncasecmp(entry->name, "README", 6) == 0)
		return true;
	return !has_suffix(entry->name, ".sql");
}

/* number of leading digits of name */
int
digit_prefix(const char *name)
{
	int			n = 0;

	while (isdigit((unsigned char) name[n]))
		n++;
	return n;
}

/* --------------------------------------------------------------------
 * Migrations
 * --------------------------------------------------------------------
 */

MigrationFile *
layout_add(LayoutContext *ctx, const char *version, const char *name,
		   char *up, const char *up_path)
{
	MigrationSet *set = ctx->set;
	MigrationFile *m;

	if ((set->nfiles & (set->nfiles - 1)) == 0)
		set->files = pg_realloc(set->files,
								sizeof(MigrationFile) * Max(8, set->nfiles * 2));
	m = &set->files[set->nfiles++];
	memset(m, 0, sizeof(*m));
	m->version = pg_strdup(version);
	m->name = pg_strdup(name);
	m->up = up;
	m->up_path = pg_strdup(up_path);
	ctx->sorted = false;
	return m;
}

static int migration_cmp(const void *a, const void *b);

/* the migration of this version read so far (natural comparison), or NULL */
MigrationFile *
layout_find(LayoutContext *ctx, const char *version)
{
	MigrationFile key = {0};

	if (!ctx->sorted)
	{
		qsort(ctx->set->files, ctx->set->nfiles, sizeof(MigrationFile),
			  migration_cmp);
		ctx->sorted = true;
	}
	if (ctx->set->nfiles == 0)
		return NULL;
	key.version = (char *) version;
	return bsearch(&key, ctx->set->files, ctx->set->nfiles,
				   sizeof(MigrationFile), migration_cmp);
}

bool
attach_down(LayoutContext *ctx, const char *version, char *down,
			const char *down_path)
{
	MigrationFile *m = layout_find(ctx, version);
	MigrationFile *end = ctx->set->files + ctx->set->nfiles;

	if (m == NULL)
		return layout_error(ctx, "down file \"%s/%s\" has no up file (no migration has version \"%s\")",
							ctx->dir, down_path, version);

	/* duplicate versions (kept for validate): the first one without a down */
	while (m > ctx->set->files && version_compare(m[-1].version, version) == 0)
		m--;
	while (m->down != NULL && m + 1 < end &&
		   version_compare(m[1].version, version) == 0)
		m++;
	if (m->down != NULL)
		return layout_error(ctx, "migration \"%s\" has two down files: \"%s/%s\" and \"%s/%s\"",
							m->version, ctx->dir, m->down_path, ctx->dir,
							down_path);
	m->down = down;
	m->down_path = pg_strdup(down_path);
	return true;
}

typedef struct PendingDown
{
	char	   *version;
	char	   *path;
	char	   *text;
} PendingDown;

/*
 * Read the files of a layout that names each up and down file (see
 * layout.h).  Down files are matched after every up file is read, so the
 * order of the directory listing does not matter.
 */
bool
read_named_files(LayoutContext *ctx, const char *layout, FileNameParser parse,
				 const char *expected)
{
	PendingDown *downs = pg_malloc(sizeof(PendingDown) * Max(ctx->nentries, 1));
	int			ndowns = 0;
	bool		ok = true;

	for (int i = 0; i < ctx->nentries && ok; i++)
	{
		DirEntry   *e = &ctx->entries[i];
		char	   *version = NULL;
		char	   *name = NULL;
		FileRole	role;
		char	   *text;

		if (e->is_dir || ignored_file(e))
			continue;
		role = parse(e->name, &version, &name);
		if (role == FILE_OTHER)
		{
			ok = layout_error(ctx, "file \"%s/%s\" is neither an up nor a down file of the %s layout (expected %s)",
							  ctx->dir, e->name, layout, expected);
			break;
		}
		text = take_entry_text(ctx, e);
		if (text == NULL)
			ok = false;
		else if (role == FILE_UP)
			layout_add(ctx, version, name, text, e->name);
		else
		{
			downs[ndowns].version = pg_strdup(version);
			downs[ndowns].path = e->name;
			downs[ndowns].text = text;
			ndowns++;
		}
		free(version);
		free(name);
	}
	for (int i = 0; i < ndowns; i++)
	{
		if (ok)
			ok = attach_down(ctx, downs[i].version, downs[i].text, downs[i].path);
		else
			free(downs[i].text);
		free(downs[i].version);
	}
	free(downs);
	return ok;
}

/* --------------------------------------------------------------------
 * Versions: the server's natural order (src/model/version.c), so that
 * files are listed, and duplicates found, exactly as the server will see
 * them ("1" and "001" are one version).
 * --------------------------------------------------------------------
 */

bool
version_is_valid(const char *version)
{
	size_t		len = strlen(version);

	if (len == 0 || len > 128 || !isalnum((unsigned char) version[0]))
		return false;
	return strspn(version, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/*
 * Compare two versions naturally: a run of digits compares as a number
 * (leading zeros dropped), and sorts before any other character at the
 * same place; other characters compare by byte value; a prefix sorts
 * first.  This walks the two strings as the server's sort keys would be
 * compared (0x01, digit count, digits), without building the keys.
 */
int
version_compare(const char *a, const char *b)
{
	while (*a && *b)
	{
		bool		da = isdigit((unsigned char) *a);
		bool		db = isdigit((unsigned char) *b);

		if (da && db)
		{
			const char *ea,
					   *eb;
			int			la,
						lb,
						cmp;

			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			for (ea = a; isdigit((unsigned char) *ea); ea++)
				;
			for (eb = b; isdigit((unsigned char) *eb); eb++)
				;
			la = ea - a;
			lb = eb - b;
			if (la != lb)
				return la < lb ? -1 : 1;
			cmp = memcmp(a, b, la);
			if (cmp != 0)
				return cmp < 0 ? -1 : 1;
			a = ea;
			b = eb;
		}
		else if (da || db)
			return da ? -1 : 1; /* the key's 0x01 marker sorts first */
		else
		{
			if (*a != *b)
				return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
			a++;
			b++;
		}
	}
	return (*a != '\0') - (*b != '\0');
}

static int
migration_cmp(const void *a, const void *b)
{
	return version_compare(((const MigrationFile *) a)->version,
						   ((const MigrationFile *) b)->version);
}

/* --------------------------------------------------------------------
 * Header lines a layout adds to a script
 * --------------------------------------------------------------------
 */

/* a PostgreSQL boolean, as parse_bool() reads it; -1 when it is none */
static int
header_bool(const char *value)
{
	static const struct
	{
		const char *word;
		int			minlen;
		int			result;
	}			words[] = {
		{"true", 1, 1}, {"false", 1, 0}, {"yes", 1, 1}, {"no", 1, 0},
		{"on", 2, 1}, {"off", 2, 0}, {"1", 1, 1}, {"0", 1, 0}
	};
	size_t		len = strlen(value);

	for (int i = 0; i < (int) lengthof(words); i++)
		if (len >= (size_t) words[i].minlen && len <= strlen(words[i].word) &&
			pg_strncasecmp(value, words[i].word, len) == 0)
			return words[i].result;
	return -1;
}

/* does every comma-separated item of a occur in b? (items trimmed) */
static bool
list_within(const char *a, const char *b)
{
	char	   *copy = pg_strdup(a);
	char	   *save = NULL;
	bool		ok = true;

	for (char *item = strtok_r(copy, ",", &save); item && ok;
		 item = strtok_r(NULL, ",", &save))
	{
		char	   *bcopy = pg_strdup(b);
		char	   *bsave = NULL;
		bool		found = false;
		char	   *end;

		while (isspace((unsigned char) *item) || *item == '"')
			item++;
		end = item + strlen(item);
		while (end > item && (isspace((unsigned char) end[-1]) || end[-1] == '"'))
			*--end = '\0';
		for (char *other = strtok_r(bcopy, ",", &bsave); other && !found;
			 other = strtok_r(NULL, ",", &bsave))
		{
			while (isspace((unsigned char) *other) || *other == '"')
				other++;
			end = other + strlen(other);
			while (end > other && (isspace((unsigned char) end[-1]) || end[-1] == '"'))
				*--end = '\0';
			found = (version_compare(item, other) == 0);
		}
		free(bcopy);
		ok = found;
	}
	free(copy);
	return ok;
}

static bool
same_header_value(const char *key, const char *a, const char *b)
{
	if (strcmp(key, "dependencies") == 0)
		return list_within(a, b) && list_within(b, a);
	if (header_bool(a) >= 0)
		return header_bool(a) == header_bool(b);
	return strcmp(a, b) == 0;
}

/*
 * The value of "key" in a script's header, or NULL.  The header is read
 * as the server reads it (src/model/header.c): the run of blank and "--"
 * lines at the top; a keyed line is "[-]--[ ][@]key: value", key names
 * case-insensitive.  Only finding one key is needed here, so this is a
 * scan, not a parser: the server checks the rest.
 */
static char *
header_value(const char *script, const char *key)
{
	const char *line = script;
	size_t		keylen = strlen(key);

	if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	while (*line)
	{
		const char *eol = strchr(line, '\n');
		const char *p = line;

		if (eol == NULL)
			eol = line + strlen(line);
		while (p < eol && isspace((unsigned char) *p))
			p++;
		if (p < eol)
		{
			if (eol - p < 2 || strncmp(p, "--", 2) != 0)
				break;
			while (p < eol && *p == '-')
				p++;
			while (p < eol && isspace((unsigned char) *p))
				p++;
			if (p < eol && *p == '@')
				p++;
			if (eol - p > (long) keylen && pg_strncasecmp(p, key, keylen) == 0)
			{
				const char *q = p + keylen;

				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				if (q < eol && *q == ':')
				{
					const char *end = eol;

					q++;
					while (q < end && isspace((unsigned char) *q))
						q++;
					while (end > q && isspace((unsigned char) end[-1]))
						end--;
					return pnstrdup(q, end - q);
				}
			}
		}
		line = (*eol == '\n') ? eol + 1 : eol;
	}
	return NULL;
}

/*
 * Prepend "-- @key: value" to *script: the layout says something the
 * file's own header must agree with (dbmate's transaction:false, Sqitch's
 * requires, Flyway's R__).  A header that already says the same keeps the
 * script as it is; one that says otherwise is refused, since the server
 * refuses a duplicate key and silently picking one would be wrong.
 */
bool
inject_header(LayoutContext *ctx, char **script, const char *path,
			  const char *key, const char *value)
{
	char	   *existing = header_value(*script, key);
	const char *text = *script;
	char	   *result;

	if (existing != NULL)
	{
		bool		same = same_header_value(key, existing, value);

		if (!same)
			layout_error(ctx, "file \"%s/%s\" has \"-- @%s: %s\" in its header, but its layout says \"@%s: %s\"",
						 ctx->dir, path, key, existing, key, value);
		free(existing);
		return same;
	}
	/* the server strips only a leading BOM: keep the added line first */
	if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3;
	result = psprintf("-- @%s: %s\n%s", key, value, text);
	free(*script);
	*script = result;
	return true;
}

/* --------------------------------------------------------------------
 * Detection and reading
 * --------------------------------------------------------------------
 */

/*
 * The one layout whose files the directory holds; NULL when it holds none
 * (ctx->errmsg stays NULL) or files of two layouts (ctx->errmsg says which,
 * with an example of each).
 */
const LayoutDef *
detect_layout(LayoutContext *ctx)
{
	const LayoutDef *found = NULL;
	const char *example = NULL;

	for (int i = 0; i < ctx->nentries; i++)
	{
		DirEntry   *e = &ctx->entries[i];

		for (int l = 0; l < (int) NUM_LAYOUTS; l++)
		{
			if (!layouts[l]->claims(ctx, e))
			{
				if (ctx->errmsg != NULL)
					return NULL;	/* an unreadable file */
				continue;
			}
			if (found == NULL)
			{
				found = layouts[l];
				example = e->name;
			}
			else if (found != layouts[l])
			{
				layout_error(ctx, "directory \"%s\" mixes two layouts: \"%s\" is a %s file and \"%s\" a %s file",
							 ctx->dir, example, found->name, e->name,
							 layouts[l]->name);
				return NULL;
			}
		}
	}
	return found;
}

/* SHA-256 of every script, as the server will compute it */
static bool
compute_checksums(LayoutContext *ctx)
{
	for (int i = 0; i < ctx->set->nfiles; i++)
	{
		MigrationFile *m = &ctx->set->files[i];

		if (!script_checksum(m->up, m->checksum) ||
			(m->down != NULL && !script_checksum(m->down, m->down_checksum)) ||
			(m->verify != NULL && !script_checksum(m->verify, m->verify_checksum)))
			return layout_error(ctx, "could not compute the checksum of \"%s/%s\"",
								ctx->dir, m->up_path);
		if (m->down == NULL)
			m->down_checksum[0] = '\0';
		if (m->verify == NULL)
			m->verify_checksum[0] = '\0';
	}
	return true;
}

static bool
check_versions(LayoutContext *ctx, bool keep_duplicates)
{
	MigrationSet *set = ctx->set;

	for (int i = 0; i < set->nfiles; i++)
		if (!version_is_valid(set->files[i].version))
			return layout_error(ctx, "file \"%s/%s\" gives the invalid version \"%s\": a version has 1 to 128 letters, digits, \".\", \"_\" or \"-\", and starts with a letter or digit",
								ctx->dir, set->files[i].up_path,
								set->files[i].version);
	qsort(set->files, set->nfiles, sizeof(MigrationFile), migration_cmp);
	for (int i = 1; i < set->nfiles && !keep_duplicates; i++)
		if (version_compare(set->files[i - 1].version, set->files[i].version) == 0)
			return layout_error(ctx, "duplicate version: \"%s/%s\" gives version \"%s\" and \"%s/%s\" gives \"%s\" (numbers in versions compare by value, so \"1\" and \"001\" are the same version)",
								ctx->dir, set->files[i - 1].up_path,
								set->files[i - 1].version, ctx->dir,
								set->files[i].up_path, set->files[i].version);
	return true;
}

static void
free_entries(LayoutContext *ctx)
{
	for (int i = 0; i < ctx->nentries; i++)
	{
		free(ctx->entries[i].name);
		/* texts handed to migrations were set to NULL by their reader */
		free(ctx->entries[i].text);
	}
	free(ctx->entries);
	ctx->entries = NULL;
	ctx->nentries = 0;
}

bool
read_migrations(const char *dir, const char *layout, MigrationSet *set,
				char **errmsg)
{
	return read_migrations_opts(dir, layout, 0, set, errmsg);
}

/*
 * Read the directory into set, in version order.  With
 * READ_KEEP_DUPLICATES, migrations of one version (compared as the server
 * does: "1" and "001" are one) are kept side by side for validate to
 * report, instead of refusing the directory.
 */
bool
read_migrations_opts(const char *dir, const char *layout, int flags,
					 MigrationSet *set, char **errmsg)
{
	LayoutContext ctx;
	const LayoutDef *def;
	bool		ok;
	int			key_flags = flags & ~(READ_USE_CACHE | READ_REFRESH_CACHE);

	memset(set, 0, sizeof(*set));
	*errmsg = NULL;
	if ((flags & READ_USE_CACHE) && !(flags & READ_REFRESH_CACHE) &&
		cache_load(dir, layout, key_flags, set))
	{
		set->dir = pg_strdup(dir);
		set->from_cache = true;
		set->layout_option = layout ? pg_strdup(layout) : NULL;
		set->read_flags = flags;
		return true;
	}
	memset(set, 0, sizeof(*set));	/* what a failed load left is dropped */
	memset(&ctx, 0, sizeof(ctx));
	ctx.set = set;
	set->dir = pg_strdup(dir);
	set->layout_option = layout ? pg_strdup(layout) : NULL;
	set->read_flags = flags;

	if (flags & (READ_USE_CACHE | READ_REFRESH_CACHE))
		cache_record_start(dir);
	if (!list_directory(&ctx, dir, true))
	{
		cache_record_finish(dir, layout, key_flags, set, false);
		*errmsg = ctx.errmsg;
		return false;
	}
	if (layout != NULL)
	{
		def = find_layout(layout);
		if (def == NULL)
		{
			PQExpBufferData buf;

			initPQExpBuffer(&buf);
			for (int i = 0; i < (int) NUM_LAYOUTS; i++)
				appendPQExpBuffer(&buf, "%s%s", i ? ", " : "", layouts[i]->name);
			*errmsg = psprintf("unknown layout \"%s\" (known layouts: %s)",
							   layout, buf.data);
			termPQExpBuffer(&buf);
			free_entries(&ctx);
			cache_record_finish(dir, layout, key_flags, set, false);
			return false;
		}
	}
	else
		def = detect_layout(&ctx);

	ok = (ctx.errmsg == NULL);
	if (ok && def == NULL)
		ok = layout_error(&ctx, "no migration files found in \"%s\"", dir);
	if (ok)
	{
		set->layout = def->name;
		ok = def->read(&ctx);
	}
	if (ok && set->nfiles == 0)
		ok = layout_error(&ctx, "no migration files found in \"%s\"", dir);
	ok = ok && check_utf8_names(&ctx) &&
		check_versions(&ctx, (flags & READ_KEEP_DUPLICATES) != 0) &&
		compute_checksums(&ctx);
	free_entries(&ctx);
	cache_record_finish(dir, layout, key_flags, set, ok);
	if (!ok)
		*errmsg = ctx.errmsg;
	return ok;
}

/*
 * A set the cache gave holds no scripts: read the directory again, texts
 * included, before they are sent.  The files are read, never the cache,
 * so what is sent is what the files hold now (and the cache is refreshed).
 */
bool
reload_migrations(MigrationSet *set, char **errmsg)
{
	MigrationSet fresh;
	char	   *dir = set->dir;
	char	   *layout = set->layout_option;
	int			flags = set->read_flags & ~READ_USE_CACHE;

	*errmsg = NULL;
	if (!set->from_cache)
		return true;
	if (!read_migrations_opts(dir, layout, flags | READ_REFRESH_CACHE,
							  &fresh, errmsg))
		return false;
	*set = fresh;
	return true;
}
