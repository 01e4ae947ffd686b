/*-------------------------------------------------------------------------
 *
 * conf.c
 *		pg_migrate.conf environments and PGMIGRATE_* variables.
 *
 * pg_migrate.conf is an INI file: one section per environment
 * ([development], [staging], [production], any name) and an optional
 * [defaults] section that every environment inherits.  Each setting is
 * resolved as: command line, else PGMIGRATE_<KEY>, else the selected
 * section, else [defaults] (and then libpq's own PG* variables and
 * defaults, for the connection).
 *
 * The reader is hand-written: libpq has no INI reader to offer.  Its
 * service file (pg_service.conf) has a similar format, but the parser is
 * internal to libpq and only fills connection keywords, while this file
 * also holds the migrations directory and the safety settings.
 *
 * The connection keys of a section (dbname, host, port, user, service,
 * password) are turned into one connection string per target database,
 * parsed and written back by libpq's PQconninfoParse rules, so that every
 * target carries its own connection and the fleet (fleet.c) needs nothing
 * else.  A password read from the file lives only in that string and is
 * never printed: headers show redact_conninfo() of it.
 *
 * Copyright (c) 2026, the migrate authors
 *
 * IDENTIFICATION
 *	  bin/conf.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/string.h"
#include "pqexpbuffer.h"

#define DEFAULT_CONFIG_FILE "pg_migrate.conf"
#define DEFAULTS_SECTION	"defaults"

/* the keys of a section; the order is the order of Settings.value[] */
typedef enum ConfKey
{
	KEY_DBNAME,
	KEY_HOST,
	KEY_PORT,
	KEY_USER,
	KEY_SERVICE,
	KEY_PASSWORD,
	KEY_DIR,
	KEY_LAYOUT,
	KEY_ENVIRONMENT,
	KEY_LOCK_TIMEOUT,
	KEY_STATEMENT_TIMEOUT,
	KEY_BATCH,
	KEY_JOBS,
	KEY_DEFAULT_ENV,			/* [defaults] only */
	NUM_KEYS
} ConfKey;

static const char *const key_names[NUM_KEYS] = {
	"dbname", "host", "port", "user", "service", "password", "dir", "layout",
	"environment", "lock_timeout", "statement_timeout", "batch", "jobs",
	"default_env"
};

/* the libpq keyword of each connection key, in the order they are added */
static const ConfKey conn_keys[] = {
	KEY_HOST, KEY_PORT, KEY_USER, KEY_SERVICE, KEY_PASSWORD
};
static const char *const conn_keywords[] = {
	"host", "port", "user", "service", "password"
};

/* one section of the file, with each key's value and line (0: not set) */
typedef struct ConfSection
{
	char	   *name;
	int			line;
	char	   *value[NUM_KEYS];
	int			value_line[NUM_KEYS];
} ConfSection;

typedef struct ConfFile
{
	char	   *path;
	char	   *dir;			/* directory of the file, for relative dirs */
	ConfSection *sections;
	int			nsections;
} ConfFile;

/* the settings of one target, before the command line is applied */
typedef struct Settings
{
	const char *value[NUM_KEYS];
	int			level[NUM_KEYS];	/* 1 [defaults], 2 section, 3 variable */
	int			line[NUM_KEYS]; /* in the file, for messages */
} Settings;

static char *conf_error(const ConfFile *file, int line, const char *fmt,...)
			pg_attribute_printf(3, 4);

/*
 * An error message that names the file and the line, as the user will
 * want to open it there.
 */
static char *
conf_error(const ConfFile *file, int line, const char *fmt,...)
{
	va_list		args;
	char		message[1024];
	char	   *result;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	if (line > 0)
		result = psprintf("configuration file \"%s\", line %d: %s",
						  file->path, line, message);
	else
		result = psprintf("configuration file \"%s\": %s", file->path, message);
	return result;
}

static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int
find_key(const char *name)
{
	for (int k = 0; k < NUM_KEYS; k++)
		if (pg_strcasecmp(name, key_names[k]) == 0)
			return k;
	return -1;
}

static ConfSection *
find_section(const ConfFile *file, const char *name)
{
	for (int i = 0; i < file->nsections; i++)
		if (strcmp(file->sections[i].name, name) == 0)
			return &file->sections[i];
	return NULL;
}

/*
 * The value of "key = value": either in double quotes (\" and \\ escape;
 * the only way to keep a leading blank or a " #"), or bare, where a '#'
 * after a blank starts a comment.  Returns NULL on a syntax error.
 */
static char *
parse_value(char *p, const char **problem)
{
	p = trim(p);
	if (*p == '"')
	{
		PQExpBufferData buf;

		initPQExpBuffer(&buf);
		for (p++; *p != '"'; p++)
		{
			if (*p == '\0')
			{
				termPQExpBuffer(&buf);
				*problem = "unterminated quoted value";
				return NULL;
			}
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			appendPQExpBufferChar(&buf, *p);
		}
		p = trim(p + 1);
		if (*p != '\0' && *p != '#')
		{
			termPQExpBuffer(&buf);
			*problem = "unexpected text after the quoted value";
			return NULL;
		}
		return buf.data;
	}
	for (char *c = p; *c; c++)
	{
		if (*c == '#' && c > p && (c[-1] == ' ' || c[-1] == '\t'))
		{
			*c = '\0';
			break;
		}
	}
	return pg_strdup(trim(p));
}

static bool
parse_positive(const char *value, int *result)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < 1 || n > INT_MAX)
		return false;
	*result = (int) n;
	return true;
}

/* one "key = value" line into the current section */
static char *
parse_setting(ConfFile *file, ConfSection *section, char *p, int lineno)
{
	char	   *eq = strchr(p, '=');
	char	   *name;
	char	   *value;
	const char *problem = NULL;
	int			key;
	int			n;

	if (eq == NULL)
		return conf_error(file, lineno, "expected \"key = value\", \"[section]\" or a # comment");
	*eq = '\0';
	name = trim(p);
	if (section == NULL)
		return conf_error(file, lineno, "key \"%s\" before the first [section]", name);
	key = find_key(name);
	if (key < 0)
		return conf_error(file, lineno,
						  "unknown key \"%s\" (the keys are dbname, host, port, user, service, password, dir, layout, environment, lock_timeout, statement_timeout, batch, jobs, and default_env in [defaults])",
						  name);
	if (key == KEY_DEFAULT_ENV && strcmp(section->name, DEFAULTS_SECTION) != 0)
		return conf_error(file, lineno, "key \"default_env\" belongs in [defaults]");
	if (section->value_line[key] != 0)
		return conf_error(file, lineno, "key \"%s\" set twice in [%s] (first on line %d)",
						  key_names[key], section->name, section->value_line[key]);
	value = parse_value(eq + 1, &problem);
	if (value == NULL)
		return conf_error(file, lineno, "%s", problem);
	if ((key == KEY_BATCH || key == KEY_JOBS) && !parse_positive(value, &n))
		return conf_error(file, lineno, "invalid value for \"%s\": must be a positive integer",
						  key_names[key]);
	if (key == KEY_DIR && value[0] != '/' && strcmp(file->dir, ".") != 0)
	{
		/* relative to the configuration file, not to the working directory */
		char	   *joined = psprintf("%s/%s", file->dir, value);

		free(value);
		value = joined;
	}
	section->value[key] = value;
	section->value_line[key] = lineno;
	return NULL;
}

/* "[name]": a new section */
static char *
parse_section(ConfFile *file, char *p, int lineno, ConfSection **current)
{
	char	   *close = strchr(p, ']');
	char	   *name;
	ConfSection *other;

	if (close == NULL || *trim(close + 1) != '\0')
		return conf_error(file, lineno, "expected \"[section]\"");
	*close = '\0';
	name = trim(p + 1);
	if (*name == '\0')
		return conf_error(file, lineno, "empty section name");
	if ((other = find_section(file, name)) != NULL)
		return conf_error(file, lineno, "section [%s] appears twice (first on line %d)",
						  name, other->line);
	file->sections = pg_realloc(file->sections,
								sizeof(ConfSection) * (file->nsections + 1));
	*current = &file->sections[file->nsections++];
	memset(*current, 0, sizeof(ConfSection));
	(*current)->name = pg_strdup(name);
	(*current)->line = lineno;
	return NULL;
}

/* read and parse the whole file; NULL on success, else the error message */
static char *
read_conf_file(ConfFile *file)
{
	FILE	   *f;
	char	   *line;
	int			lineno = 0;
	ConfSection *current = NULL;
	char	   *err = NULL;
	char	   *slash;

	file->dir = pg_strdup(file->path);
	slash = strrchr(file->dir, '/');
	if (slash == NULL)
		strcpy(file->dir, ".");
	else if (slash == file->dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	if ((f = fopen(file->path, "r")) == NULL)
		return psprintf("could not open configuration file \"%s\": %s",
						file->path, strerror(errno));
	while (err == NULL && (line = pg_get_line(f, NULL)) != NULL)
	{
		char	   *p;

		lineno++;
		(void) pg_strip_crlf(line);
		p = trim(line);
		if (lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;				/* a UTF-8 byte order mark */
		if (*p == '\0' || *p == '#' || *p == ';')
			;
		else if (*p == '[')
			err = parse_section(file, p, lineno, &current);
		else
			err = parse_setting(file, current, p, lineno);
		free(line);
	}
	if (err == NULL && ferror(f))
		err = psprintf("could not read configuration file \"%s\": %s",
					   file->path, strerror(errno));
	fclose(f);
	return err;
}

/*
 * Whether a section holds a password: the password key, or a password or
 * sslpassword inside a dbname connection string or URI.
 */
static bool
section_has_password(const ConfSection *section)
{
	const char *dbname = section->value[KEY_DBNAME];
	PQconninfoOption *parsed;
	bool		found = false;

	if (section->value[KEY_PASSWORD] != NULL)
		return true;
	if (dbname == NULL || !is_connection_string(dbname) ||
		(parsed = parse_conninfo(dbname, NULL)) == NULL)
		return false;
	for (PQconninfoOption *o = parsed; o->keyword; o++)
		if (o->val != NULL && o->val[0] != '\0' &&
			(strcmp(o->keyword, "password") == 0 ||
			 strcmp(o->keyword, "sslpassword") == 0))
			found = true;
	PQconninfoFree(parsed);
	return found;
}

/*
 * A password in a file others can read is a leak waiting to happen: warn,
 * as libpq does for a .pgpass with group or world access.
 */
static void
warn_password_permissions(const ConfFile *file)
{
	struct stat st;
	bool		has_password = false;

	for (int i = 0; i < file->nsections; i++)
		if (section_has_password(&file->sections[i]))
			has_password = true;
	if (!has_password || stat(file->path, &st) != 0)
		return;
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		fprintf(stderr,
				"pg_migrate: warning: configuration file \"%s\" holds a password and has group or world access; permissions should be u=rw (0600) or less\n",
				file->path);
}

/* the names of the environments, for an error message */
static char *
section_list(const ConfFile *file)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	for (int i = 0; i < file->nsections; i++)
	{
		if (strcmp(file->sections[i].name, DEFAULTS_SECTION) == 0)
			continue;
		appendPQExpBuffer(&buf, "%s%s", buf.len ? ", " : "",
						  file->sections[i].name);
	}
	if (buf.len == 0)
		appendPQExpBufferStr(&buf, "none");
	return buf.data;
}

/*
 * The settings of one section: [defaults], then the section, then the
 * PGMIGRATE_* variables.  section may be NULL ([defaults] alone), file may
 * be NULL (no configuration file: the variables alone).
 */
static char *
resolve_settings(const ConfFile *file, const ConfSection *section,
				 Settings *s)
{
	const ConfSection *defaults = file ? find_section(file, DEFAULTS_SECTION) : NULL;

	memset(s, 0, sizeof(Settings));
	for (int k = 0; k < NUM_KEYS; k++)
	{
		char		var[64];
		const char *env;
		int			n;

		if (defaults && defaults->value[k])
		{
			s->value[k] = defaults->value[k];
			s->level[k] = 1;
			s->line[k] = defaults->value_line[k];
		}
		if (section && section->value[k])
		{
			s->value[k] = section->value[k];
			s->level[k] = 2;
			s->line[k] = section->value_line[k];
		}

		snprintf(var, sizeof(var), "PGMIGRATE_%s", key_names[k]);
		for (char *c = var; *c; c++)
			*c = pg_toupper((unsigned char) *c);
		if (k == KEY_DEFAULT_ENV || (env = getenv(var)) == NULL || *env == '\0')
			continue;
		if ((k == KEY_BATCH || k == KEY_JOBS) && !parse_positive(env, &n))
			return psprintf("invalid value for %s: must be a positive integer", var);
		s->value[k] = env;
		s->level[k] = 3;
	}
	return NULL;
}

/*
 * The connection string of one target.  base is a database name, a conninfo
 * string or a URI: from the command line (-d, --dbs-from), or NULL for the
 * dbname setting (file or PGMIGRATE_DBNAME).  The host, port, user, service
 * and password settings are added to it:
 *
 * - a base from the command line wins over them: they fill in only what it
 *   does not set (as -h does for a psql -d connection string);
 * - a dbname setting is overridden by those set at the same level or a
 *   higher one (a separate key is the more specific one; a [defaults] host
 *   does not override the host of a section's dbname, a PGMIGRATE_HOST
 *   does), and by -h, -p and -U, which client_connect() applies before the
 *   connection string: those keys are left out of it here.
 *
 * Returns base unchanged when there is nothing to add or remove.
 */
/*
 * The error for a dbname that libpq cannot parse.  It names where the
 * string came from and nothing else: libpq's own message quotes the token
 * it choked on, which may be a password (parse_conninfo() drops it).
 */
static char *
invalid_conninfo_error(const ConfFile *file, const Settings *s,
					   bool from_cmdline)
{
	if (from_cmdline)
		return pg_strdup("invalid connection string given with -d or --dbs-from");
	if (s->level[KEY_DBNAME] == 3)
		return pg_strdup("invalid connection string in PGMIGRATE_DBNAME");
	return conf_error(file, s->line[KEY_DBNAME],
					  "invalid connection string in \"dbname\"");
}

/*
 * Copy the settings of a parsed connection string into buf, except those
 * dropped (replaced by a setting or by -h/-p/-U); a key the string sets
 * and keeps is no longer added from the settings.
 */
static void
append_parsed(PQExpBuffer buf, PQconninfoOption *parsed, const bool *drop,
			  bool *add)
{
	for (PQconninfoOption *o = parsed; o && o->keyword; o++)
	{
		bool		keep = o->val != NULL && o->val[0] != '\0';

		for (int i = 0; i < lengthof(conn_keys); i++)
		{
			if (strcmp(o->keyword, conn_keywords[i]) != 0)
				continue;
			if (drop[i])
				keep = false;	/* replaced by the setting or -h/-p/-U */
			else if (keep)
				add[i] = false; /* the command line's string wins */
		}
		if (keep)
			append_conninfo_value(buf, o->keyword, o->val);
	}
}

/*
 * The connection string of one target.  base is a database name, a conninfo
 * string or a URI: from the command line (-d, --dbs-from), or NULL for the
 * dbname setting (file or PGMIGRATE_DBNAME).  The host, port, user, service
 * and password settings are added to it:
 *
 * - a base from the command line wins over them: they fill in only what it
 *   does not set (as -h does for a psql -d connection string);
 * - a dbname setting is overridden by those set at the same level or a
 *   higher one (a separate key is the more specific one; a [defaults] host
 *   does not override the host of a section's dbname, a PGMIGRATE_HOST
 *   does), and by -h, -p and -U, which client_connect() applies before the
 *   connection string: those keys are left out of it here.
 *
 * A connection string is parsed first in any case, so that one libpq
 * cannot read is refused here, with a message that does not quote it.
 * Returns base unchanged when there is nothing to add or remove.
 */
static char *
compose_target(const ClientOptions *opts, const ConfFile *file,
			   const char *base, const Settings *s, char **conninfo)
{
	const char *cmdline[] = {opts->host, opts->port, opts->username, NULL, NULL};
	bool		from_cmdline = base != NULL;
	bool		add[lengthof(conn_keys)];
	bool		drop[lengthof(conn_keys)];
	bool		any = false;
	PQconninfoOption *parsed = NULL;
	PQExpBufferData buf;

	if (base == NULL)
		base = s->value[KEY_DBNAME];
	if (base != NULL && is_connection_string(base) &&
		(parsed = parse_conninfo(base, NULL)) == NULL)
		return invalid_conninfo_error(file, s, from_cmdline);
	for (int i = 0; i < lengthof(conn_keys); i++)
	{
		add[i] = s->value[conn_keys[i]] != NULL && cmdline[i] == NULL;
		drop[i] = !from_cmdline && parsed != NULL &&
			(cmdline[i] != NULL ||
			 (add[i] && s->level[conn_keys[i]] >= s->level[KEY_DBNAME]));
		any |= add[i] || drop[i];
	}
	if (!any)
	{
		if (parsed)
			PQconninfoFree(parsed);
		*conninfo = base ? pg_strdup(base) : NULL;
		return NULL;
	}

	initPQExpBuffer(&buf);
	if (parsed)
		append_parsed(&buf, parsed, drop, add);
	else if (base != NULL)
		append_conninfo_value(&buf, "dbname", base);
	for (int i = 0; i < lengthof(conn_keys); i++)
		if (add[i])
			append_conninfo_value(&buf, conn_keywords[i], s->value[conn_keys[i]]);
	if (parsed)
		PQconninfoFree(parsed);
	*conninfo = buf.data;
	return NULL;
}

static void
add_target(char ***dbnames, int *ndbnames, char *conninfo)
{
	*dbnames = pg_realloc(*dbnames, sizeof(char *) * (*ndbnames + 1));
	(*dbnames)[(*ndbnames)++] = conninfo;
}

/* --dbs-from FILE ("-": standard input): one connection string per line */
static char *
read_dbs_from(const char *path, char ***list, int *n)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char	   *line;

	if (f == NULL)
		return psprintf("could not open \"%s\": %s", path, strerror(errno));
	while ((line = pg_get_line(f, NULL)) != NULL)
	{
		char	   *p;

		(void) pg_strip_crlf(line);
		p = trim(line);
		if (*p != '\0' && *p != '#')
			add_target(list, n, pg_strdup(p));
		free(line);
	}
	if (ferror(f))
		return psprintf("could not read \"%s\": %s", path, strerror(errno));
	if (f != stdin)
		fclose(f);
	if (*n == 0)
		return psprintf("\"%s\" names no database", path);
	return NULL;
}

/*
 * The non-connection settings of a target, command line first.  dir falls
 * back to "migrations" next to the configuration file when there is one,
 * else in the working directory (as main() does): a fleet's child takes
 * every field of its target as it is.
 */
static void
resolve_target(const ClientOptions *opts, const ConfFile *file,
			   const Settings *s, TargetSettings *t)
{
	int			n;

	t->environment = opts->environment ? opts->environment :
		(char *) s->value[KEY_ENVIRONMENT];
	t->lock_timeout = opts->lock_timeout ? opts->lock_timeout :
		(char *) s->value[KEY_LOCK_TIMEOUT];
	t->statement_timeout = opts->statement_timeout ? opts->statement_timeout :
		(char *) s->value[KEY_STATEMENT_TIMEOUT];
	t->layout = opts->layout ? opts->layout : (char *) s->value[KEY_LAYOUT];
	t->dir = opts->dir ? opts->dir : (char *) s->value[KEY_DIR];
	if (t->dir == NULL && file != NULL && strcmp(file->dir, ".") != 0)
		t->dir = psprintf("%s/migrations", file->dir);
	else if (t->dir == NULL)
		t->dir = pg_strdup("migrations");
	t->batch = opts->batch;
	if (t->batch == 0 && s->value[KEY_BATCH] && parse_positive(s->value[KEY_BATCH], &n))
		t->batch = n;
}

void
apply_target_settings(ClientOptions *opts, int target)
{
	TargetSettings *t;

	if (opts->targets == NULL)
		return;
	t = &opts->targets[target];
	opts->environment = t->environment;
	opts->lock_timeout = t->lock_timeout;
	opts->statement_timeout = t->statement_timeout;
	opts->layout = t->layout;
	opts->dir = t->dir;
	opts->batch = t->batch;
}

/* --all-envs: every section but [defaults] is a target */
static char *
add_all_envs(ClientOptions *opts, const ConfFile *file, char ***dbnames,
			 int *ndbnames, TargetSettings **targets)
{
	for (int i = 0; i < file->nsections; i++)
	{
		const ConfSection *section = &file->sections[i];
		Settings	s;
		char	   *conninfo;
		char	   *err;

		if (strcmp(section->name, DEFAULTS_SECTION) == 0)
			continue;
		if ((err = resolve_settings(file, section, &s)) != NULL ||
			(err = compose_target(opts, file, NULL, &s, &conninfo)) != NULL)
			return err;
		if (conninfo == NULL)
			conninfo = pg_strdup("");	/* libpq's defaults: PGDATABASE, ... */
		*targets = pg_realloc(*targets, sizeof(TargetSettings) * (*ndbnames + 1));
		resolve_target(opts, file, &s, &(*targets)[*ndbnames]);
		(*targets)[*ndbnames].env = section->name;
		add_target(dbnames, ndbnames, conninfo);
	}
	return NULL;
}

/* the configuration file to read: --config, else ./pg_migrate.conf if any */
static char *
open_config(const ClientOptions *opts, ConfFile **file)
{
	struct stat st;
	char	   *err;

	*file = NULL;
	if (opts->config_file == NULL && stat(DEFAULT_CONFIG_FILE, &st) != 0)
		return NULL;
	*file = pg_malloc0(sizeof(ConfFile));
	(*file)->path = pg_strdup(opts->config_file ? opts->config_file :
							  DEFAULT_CONFIG_FILE);
	if ((err = read_conf_file(*file)) != NULL)
		return err;
	warn_password_permissions(*file);
	return NULL;
}

/* the section the settings come from: --env, PGMIGRATE_ENV, default_env */
static char *
select_section(const ClientOptions *opts, const ConfFile *file,
			   const ConfSection **section)
{
	const char *name = opts->env;
	const char *from = "--env";
	const ConfSection *defaults;

	*section = NULL;
	if (name == NULL && (name = getenv("PGMIGRATE_ENV")) != NULL && *name)
		from = "PGMIGRATE_ENV";
	else if (opts->env == NULL)
		name = NULL;
	if (file == NULL)
	{
		if (name != NULL)
			return psprintf("%s names environment \"%s\", but there is no configuration file (%s not found; see --config)",
							from, name, DEFAULT_CONFIG_FILE);
		return NULL;
	}
	defaults = find_section(file, DEFAULTS_SECTION);
	if (name == NULL && defaults != NULL && defaults->value[KEY_DEFAULT_ENV])
	{
		name = defaults->value[KEY_DEFAULT_ENV];
		from = "default_env";
	}
	if (name == NULL)
		return NULL;
	if (strcmp(name, DEFAULTS_SECTION) == 0 ||
		(*section = find_section(file, name)) == NULL)
		return conf_error(file, 0, "%s names environment \"%s\", which is not a section of the file (environments: %s)",
						  from, name, section_list(file));
	return NULL;
}

/*
 * The targets named on the command line (-d, then --dbs-from) or, without
 * any and without --all-envs, the one of the dbname setting (if any)
 */
static char *
add_named_targets(const ClientOptions *opts, const ConfFile *file,
				  const Settings *s, char ***dbnames, int *ndbnames)
{
	char	  **list = NULL;
	int			n = 0;
	char	   *conninfo;
	char	   *err;

	for (int i = 0; i < opts->ndbnames; i++)
		add_target(&list, &n, opts->dbnames[i]);
	if (opts->dbs_from &&
		(err = read_dbs_from(opts->dbs_from, &list, &n)) != NULL)
		return err;
	for (int i = 0; i < n; i++)
	{
		if ((err = compose_target(opts, file, list[i], s, &conninfo)) != NULL)
			return err;
		add_target(dbnames, ndbnames, conninfo);
	}
	free(list);
	if (n == 0 && !opts->all_envs)
	{
		if ((err = compose_target(opts, file, NULL, s, &conninfo)) != NULL)
			return err;
		if (conninfo != NULL)
			add_target(dbnames, ndbnames, conninfo);
	}
	return NULL;
}

/*
 * --all-envs: the targets named so far take the settings of the selected
 * section (single), then every environment is added with its own
 */
static char *
add_env_targets(ClientOptions *opts, const ConfFile *file,
				const TargetSettings *single, char ***dbnames, int *ndbnames)
{
	TargetSettings *targets = pg_malloc0(sizeof(TargetSettings) * (*ndbnames + 1));
	char	   *err;

	for (int i = 0; i < *ndbnames; i++)
		targets[i] = *single;
	if ((err = add_all_envs(opts, file, dbnames, ndbnames, &targets)) != NULL)
		return err;
	if (*ndbnames == 0)
		return conf_error(file, 0, "--all-envs: the file has no environment, only [defaults]");
	opts->targets = targets;
	return NULL;
}

/* the checks and the choice of section before any target is resolved */
static char *
open_and_select(const ClientOptions *opts, ConfFile **file,
				const ConfSection **section)
{
	char	   *err;

	*section = NULL;
	if (opts->all_envs && opts->env != NULL)
		return pg_strdup("--env and --all-envs cannot be used together");
	if ((err = open_config(opts, file)) != NULL)
		return err;
	if (opts->all_envs && *file == NULL)
		return psprintf("--all-envs needs a configuration file (%s not found; see --config)",
						DEFAULT_CONFIG_FILE);
	if (!opts->all_envs)
		return select_section(opts, *file, section);
	return NULL;
}

bool
load_config(ClientOptions *opts, char ***dbnames, int *ndbnames, char **errmsg)
{
	ConfFile   *file = NULL;
	const ConfSection *section;
	Settings	s;
	TargetSettings single;

	*dbnames = NULL;
	*ndbnames = 0;
	if ((*errmsg = open_and_select(opts, &file, &section)) != NULL ||
		(*errmsg = resolve_settings(file, section, &s)) != NULL)
		return false;

	/* settings that are not per target */
	if (!opts->jobs_given && s.value[KEY_JOBS])
		(void) parse_positive(s.value[KEY_JOBS], &opts->jobs);

	if ((*errmsg = add_named_targets(opts, file, &s, dbnames, ndbnames)) != NULL)
		return false;
	resolve_target(opts, file, &s, &single);
	single.env = (char *) (section ? section->name : NULL);
	if (opts->all_envs)
	{
		if ((*errmsg = add_env_targets(opts, file, &single, dbnames,
									   ndbnames)) != NULL)
			return false;
		apply_target_settings(opts, 0);
		return true;
	}

	/* one target (or none): its settings are the options of this process */
	opts->targets = &single;
	apply_target_settings(opts, 0);
	opts->targets = NULL;
	return true;
}
