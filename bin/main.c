/*-------------------------------------------------------------------------
 *
 * main.c
 *		pg_migrate: command line, --help, --version, dispatch.
 *
 * Options follow psql and pg_dump: the libpq connection options, then the
 * command and its own options, in any order (getopt_long permutes).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <limits.h>
#include <unistd.h>

#include "getopt_long.h"

static const char *progname = "pg_migrate";

static void
usage(void)
{
	printf("%s deploys migration files with the migrate extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... COMMAND [ARGUMENT]...\n", progname);
	printf("\nCommands:\n");
	printf("  status             show every migration and its state\n");
	printf("  plan               show what \"up\" would do, without doing it\n");
	printf("  up                 register new and changed files, apply what is pending\n");
	printf("  down               revert (--steps N, --to V, --to-tag T or --all)\n");
	printf("  redo               revert the newest migration and apply it again\n");
	printf("  validate           compare files with the database (exit 3 if they differ)\n");
	printf("  lint [FILE]...     lint the files with migrate.lint() (exit 3 on findings)\n");
	printf("  rehearse           register files, rehearse what is pending (rolled back)\n");
	printf("  history            show the history of events\n");
	printf("  tag NAME [VERSION] name the newest applied migration (or VERSION)\n");
	printf("  new DESCRIPTION    write a new up and down file in the directory's layout\n");
	printf("  approve VERSION    approve a migration\n");
	printf("  resolve VERSION    settle a dirty migration (with --action)\n");
	printf("  unapprove VERSION  withdraw the approval of a migration\n");
	printf("  settings           the environment's rules, as the server applies them\n");
	printf("  files              list the migrations read from the directory\n");
	printf("  init               create the extension\n");
	printf("  baseline VERSION   adopt a database: mark migrations up to VERSION applied\n");
	printf("  baseline --generate [FILE]  write a baseline migration from pg_dump --schema-only\n");
	printf("  import TOOL        register the files, adopt the history of flyway, liquibase,\n");
	printf("                     golang-migrate, dbmate, sqitch or diesel\n");
	printf("\nOptions:\n");
	printf("      --dir=DIR              migrations directory (default: migrations)\n");
	printf("      --layout=NAME          file layout, instead of detecting it\n");
	printf("      --env=NAME             section of pg_migrate.conf to use\n");
	printf("      --config=FILE          configuration file (default: pg_migrate.conf)\n");
	printf("      --to=VERSION           up, plan, rehearse, down: stop at this version\n");
	printf("      --to-tag=TAG           down: revert to a tag\n");
	printf("      --steps=N              down: revert the N newest migrations\n");
	printf("      --all                  down: revert everything\n");
	printf("      --dry-run              up, down: run, report, roll back\n");
	printf("      --check                status, plan: exit 3 when anything is pending\n");
	printf("      --batch=N              up: commit after every N migrations\n");
	printf("      --single-transaction   up: apply everything in one transaction\n");
	printf("      --action=ACTION        resolve: retry, mark_applied or mark_reverted\n");
	printf("      --force                up, down: override the risk gate and the revert window\n");
	printf("      --skip-backup          up, down: no backup before destructive statements\n");
	printf("      --expect-fingerprint=FP  up: run only on the schema of this fingerprint\n");
	printf("      --fail-on=SEVERITY     lint: exit 3 on a finding of this severity or\n"
		   "                             above: error (default), warning or info\n");
	printf("      --description=TEXT     baseline: what the baseline stands for\n");
	printf("      --generate             baseline: write a baseline migration file\n");
	printf("      --no-cache             read every file (no checksum cache)\n");
	printf("      --json                 print one JSON document\n");
	printf("  -q, --quiet                print errors only\n");
	printf("  -v, --verbose              print the SQL sent to the server (lint: and hints)\n");
	printf("  -j, --jobs=N               databases to work on at once\n");
	printf("      --all-envs             every environment of the configuration file\n");
	printf("      --dbs-from=FILE        databases, one connection string a line\n");
	printf("  -V, --version              output version information, then exit\n");
	printf("  -?, --help                 show this help, then exit\n");
	printf("\nOptions of \"new\":\n");
	printf("      --risk-level=LEVEL     low, medium or high\n");
	printf("      --zero-downtime        mark the migration zero-downtime\n");
	printf("      --estimated-duration=D for example \"30 seconds\"\n");
	printf("      --depends-on=VERSION   a dependency (repeatable)\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=CONNSTR     database to work on (repeatable)\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port number\n");
	printf("  -U, --username=NAME      connect as specified database user\n");
	printf("  -w, --no-password        never prompt for password\n");
	printf("  -W, --password           force password prompt\n");
	printf("\nIf no -d is given, the PGDATABASE, PGHOST, PGPORT and PGUSER environment\n"
		   "variables (and ~/.pgpass, PGSERVICE) are used, as psql uses them.\n"
		   "Colour is used on a terminal unless NO_COLOR is set.\n");
	printf("\nExit status: 0 success, 1 error, 2 usage, 3 something is pending,\n"
		   "edited, missing or drifted (status --check, plan --check, validate),\n"
		   "or lint found something at or above --fail-on.\n");
	printf("\nReport bugs in the migrate project's issue tracker.\n");
}

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: error: ", progname);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	exit(EXIT_USAGE);
}

static int
parse_count(const char *option, const char *value)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || n < 1 || n > INT_MAX)
		usage_error("invalid value for %s: must be a positive integer", option);
	return (int) n;
}

static void
add_arg(char ***list, int *n, const char *value)
{
	*list = pg_realloc(*list, sizeof(char *) * (*n + 1));
	(*list)[(*n)++] = pg_strdup(value);
}

/* the long options without a short letter */
enum
{
	OPT_DIR = 256, OPT_LAYOUT, OPT_ENV, OPT_CONFIG, OPT_TO, OPT_TO_TAG,
	OPT_STEPS, OPT_ALL, OPT_DRY_RUN, OPT_BATCH, OPT_SINGLE, OPT_JSON,
	OPT_ALL_ENVS, OPT_DBS_FROM, OPT_RISK, OPT_ZERO, OPT_ESTIMATE,
	OPT_DEPENDS, OPT_ACTION, OPT_CHECK, OPT_NO_CACHE, OPT_FORCE,
	OPT_SKIP_BACKUP, OPT_EXPECT_FP, OPT_FAIL_ON,
	OPT_DESCRIPTION, OPT_GENERATE
};

static const struct option long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"host", required_argument, NULL, 'h'},
	{"port", required_argument, NULL, 'p'},
	{"username", required_argument, NULL, 'U'},
	{"no-password", no_argument, NULL, 'w'},
	{"password", no_argument, NULL, 'W'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"jobs", required_argument, NULL, 'j'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, '?'},
	{"dir", required_argument, NULL, OPT_DIR},
	{"layout", required_argument, NULL, OPT_LAYOUT},
	{"env", required_argument, NULL, OPT_ENV},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"to", required_argument, NULL, OPT_TO},
	{"to-tag", required_argument, NULL, OPT_TO_TAG},
	{"steps", required_argument, NULL, OPT_STEPS},
	{"all", no_argument, NULL, OPT_ALL},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"single-transaction", no_argument, NULL, OPT_SINGLE},
	{"json", no_argument, NULL, OPT_JSON},
	{"all-envs", no_argument, NULL, OPT_ALL_ENVS},
	{"dbs-from", required_argument, NULL, OPT_DBS_FROM},
	{"risk-level", required_argument, NULL, OPT_RISK},
	{"zero-downtime", no_argument, NULL, OPT_ZERO},
	{"estimated-duration", required_argument, NULL, OPT_ESTIMATE},
	{"depends-on", required_argument, NULL, OPT_DEPENDS},
	{"action", required_argument, NULL, OPT_ACTION},
	{"check", no_argument, NULL, OPT_CHECK},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"force", no_argument, NULL, OPT_FORCE},
	{"skip-backup", no_argument, NULL, OPT_SKIP_BACKUP},
	{"expect-fingerprint", required_argument, NULL, OPT_EXPECT_FP},
	{"fail-on", required_argument, NULL, OPT_FAIL_ON},
	{"description", required_argument, NULL, OPT_DESCRIPTION},
	{"generate", no_argument, NULL, OPT_GENERATE},
	{NULL, 0, NULL, 0}
};

/*
 * The options that only store their value (a string) or set a flag: a
 * table of where each goes, so that adding one is one line
 */
typedef struct FieldOption
{
	int			code;			/* the getopt_long() return value */
	size_t		offset;			/* of the field in ClientOptions */
} FieldOption;

static const FieldOption string_options[] = {
	{'h', offsetof(ClientOptions, host)},
	{'p', offsetof(ClientOptions, port)},
	{'U', offsetof(ClientOptions, username)},
	{OPT_DIR, offsetof(ClientOptions, dir)},
	{OPT_LAYOUT, offsetof(ClientOptions, layout)},
	{OPT_EXPECT_FP, offsetof(ClientOptions, expect_fingerprint)},
	{OPT_FAIL_ON, offsetof(ClientOptions, fail_on)},
	{OPT_ENV, offsetof(ClientOptions, env)},
	{OPT_CONFIG, offsetof(ClientOptions, config_file)},
	{OPT_TO, offsetof(ClientOptions, to)},
	{OPT_TO_TAG, offsetof(ClientOptions, to_tag)},
	{OPT_DBS_FROM, offsetof(ClientOptions, dbs_from)},
	{OPT_RISK, offsetof(ClientOptions, risk_level)},
	{OPT_ESTIMATE, offsetof(ClientOptions, estimated_duration)},
	{OPT_ACTION, offsetof(ClientOptions, action)},
	{OPT_DESCRIPTION, offsetof(ClientOptions, description)},
};

static const FieldOption flag_options[] = {
	{'q', offsetof(ClientOptions, quiet)},
	{'v', offsetof(ClientOptions, verbose)},
	{OPT_ALL, offsetof(ClientOptions, all)},
	{OPT_DRY_RUN, offsetof(ClientOptions, dry_run)},
	{OPT_SINGLE, offsetof(ClientOptions, single_transaction)},
	{OPT_JSON, offsetof(ClientOptions, json)},
	{OPT_ALL_ENVS, offsetof(ClientOptions, all_envs)},
	{OPT_ZERO, offsetof(ClientOptions, zero_downtime)},
	{OPT_CHECK, offsetof(ClientOptions, check)},
	{OPT_NO_CACHE, offsetof(ClientOptions, no_cache)},
	{OPT_FORCE, offsetof(ClientOptions, force)},
	{OPT_SKIP_BACKUP, offsetof(ClientOptions, skip_backup)},
	{OPT_GENERATE, offsetof(ClientOptions, generate)},
};

/* a string or flag option of the tables above; false if c is not one */
static bool
set_field_option(ClientOptions *opts, int c, const char *value)
{
	for (int i = 0; i < lengthof(string_options); i++)
	{
		if (string_options[i].code != c)
			continue;
		*(char **) ((char *) opts + string_options[i].offset) = pg_strdup(value);
		return true;
	}
	for (int i = 0; i < lengthof(flag_options); i++)
	{
		if (flag_options[i].code != c)
			continue;
		*(bool *) ((char *) opts + flag_options[i].offset) = true;
		return true;
	}
	return false;
}

/* -? / --help prints the usage; any other unknown option is an error */
static void
help_or_usage_error(int argc, char **argv)
{
	if (optind <= argc &&
		(strcmp(argv[optind - 1], "-?") == 0 ||
		 strcmp(argv[optind - 1], "--help") == 0))
	{
		usage();
		exit(EXIT_OK);
	}
	fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	exit(EXIT_USAGE);
}

/* the options that do more than store a value */
static void
set_other_option(ClientOptions *opts, int c, int argc, char **argv)
{
	switch (c)
	{
		case 'd':
			add_arg(&opts->dbnames, &opts->ndbnames, optarg);
			break;
		case 'w':
			opts->prompt_password = -1;
			break;
		case 'W':
			opts->prompt_password = 1;
			break;
		case 'j':
			opts->jobs = parse_count("--jobs", optarg);
			opts->jobs_given = true;
			break;
		case 'V':
			printf("pg_migrate (migrate) %s\n", MIGRATE_VERSION);
			exit(EXIT_OK);
		case OPT_STEPS:
			opts->steps = parse_count("--steps", optarg);
			break;
		case OPT_BATCH:
			opts->batch = parse_count("--batch", optarg);
			break;
		case OPT_DEPENDS:
			add_arg(&opts->depends_on, &opts->ndepends_on, optarg);
			break;
		default:
			help_or_usage_error(argc, argv);
	}
}

static void
parse_options(int argc, char **argv, ClientOptions *opts)
{
	int			c;
	int			optindex;

	while ((c = getopt_long(argc, argv, "d:h:p:U:wWqvj:V?", long_options,
							&optindex)) != -1)
	{
		if (!set_field_option(opts, c, optarg))
			set_other_option(opts, c, argc, argv);
	}

	if (optind >= argc)
		usage_error("%s", "no command given");
	opts->command = pg_strdup(argv[optind++]);
	while (optind < argc)
		add_arg(&opts->args, &opts->nargs, argv[optind++]);
}

int
main(int argc, char **argv)
{
	ClientOptions opts;
	char	  **dbnames = NULL;
	int			ndbnames = 0;
	char	   *errmsg = NULL;
	int			rc;

	/* the service file and locale next to the binary, as psql finds them */
	set_pglocale_pgservice(argv[0], PG_TEXTDOMAIN("pg_migrate"));

	memset(&opts, 0, sizeof(opts));
	opts.jobs = 1;
	parse_options(argc, argv, &opts);
	check_command_usage(&opts);

	if (!load_config(&opts, &dbnames, &ndbnames, &errmsg))
	{
		fprintf(stderr, "%s: error: %s\n", progname, errmsg);
		exit(EXIT_USAGE);
	}
	if (opts.dir == NULL)
		opts.dir = pg_strdup("migrations");
	if (opts.no_cache)
		cache_disable();

	/* no-color.org: NO_COLOR set to anything but "" turns colour off */
	opts.color = isatty(fileno(stdout)) &&
		(getenv("NO_COLOR") == NULL || getenv("NO_COLOR")[0] == '\0') &&
		!opts.json;
	opts.progress = isatty(fileno(stderr)) && !opts.quiet && !opts.json;
	out_init(&opts);

	if (!command_needs_database(opts.command))
		rc = run_command(&opts, NULL);
	else if (ndbnames > 1)
		rc = run_fleet(&opts, dbnames, ndbnames);
	else
		rc = run_command(&opts, ndbnames == 1 ? dbnames[0] : NULL);
	/* --json: the one document of this invocation */
	out_finish(rc);
	return rc;
}
