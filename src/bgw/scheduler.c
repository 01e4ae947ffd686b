/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The per-database scheduler: applies approved migrations when a
 *	  schedule fires inside its maintenance window.
 *
 * The launcher (launcher.c) starts one scheduler per database.  It exits
 * at once if the extension is not installed, and within migrate.naptime
 * after DROP EXTENSION.  Otherwise it sleeps on its latch until the next
 * schedule is due (at most migrate.naptime, so that it notices catalog
 * changes; schedule(), resume() and CREATE EXTENSION wake it at once), and
 * uses no CPU in between.
 *
 * The scheduler only decides what is due; it never runs migration SQL.
 * Protocol of a round:
 *
 *	1. Read the enabled schedules whose next_run_at has passed (none while
 *	   paused).  Each one is then handled in an error boundary of its own,
 *	   so that a schedule that cannot be evaluated (a time zone unknown
 *	   here, an interval that overflows) is reported in the history and in
 *	   its last_outcome and retried a minute later, while the others run.
 *	2. Outside its window (in the schedule's time zone), a schedule is only
 *	   moved to its next time.
 *	3. Inside it, the scheduler takes the migrate lock at session level
 *	   (someone holds it: the schedule stays due and is tried again after
 *	   naptime), and builds the plan apply(target) would run, keeping its
 *	   leading part that the schedule allows: approved (when the schedule
 *	   or the environment requires it; four-eyes where the environment
 *	   says so), within the environment's risk gate (a scheduled run never
 *	   forces: a gated migration waits for an approval, exec/guard.c),
 *	   meant for the schedule's environment, not failed,
 *	   whose role can log in, and authorised by a role with that role's
 *	   privileges (its approver, or without required approval the
 *	   schedule's creator: nobody gets another role's migration run by
 *	   approving or scheduling it).  A database whose new sessions are read-only
 *	   gets no run at all ("database is read-only").
 *	4. For each migration of that part, in order, it starts a worker of its
 *	   own (schedworker.c) connected as the role the migration runs as
 *	   (migrate.worker_role, or the role that registered it), passes it the
 *	   migrate lock through its lock group, and waits for it to exit.  The
 *	   run stops at the first migration that fails, that would overrun the
 *	   window, or whose worker could not start (no free slot: the schedule
 *	   stays due) or exited without a result (a failed run naming the
 *	   role).
 *	5. It records the run: a 'run' row in the history when it applied
 *	   something, failed, or stopped for a new reason (a run that stops
 *	   where the previous one stopped adds none, or an every-minute
 *	   schedule would fill the history); each applied migration has its own
 *	   'apply' row, written by its worker as its role.  last_outcome and
 *	   waiting_for say how it ended and what it waits for.  It releases the
 *	   lock.
 *
 * The scheduler is a superuser session, so it pins its own settings for
 * its whole life (search_path = pg_catalog, pg_temp; the time zone
 * abbreviations schedule() validates with; writes allowed) and qualifies
 * every function and operator in its queries: nothing a user creates in a
 * schema can run as the scheduler.  No migration runs in its session, so
 * none can leave settings, temporary objects or commit-time code behind
 * in it, or act as the superuser.
 *
 * IDENTIFICATION
 *	  src/bgw/scheduler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "store/catalog.h"
#include "store/durable.h"
#include "guc.h"
#include "store/lock.h"
#include "store/environment.h"
#include "store/spi.h"
#include "exec/guard.h"
#include "exec/plan.h"
#include "ipc/dynworker.h"
#include "ipc/progress.h"
#include "exec/worker_run.h"
#include "bgw/schedworker.h"
#include "ipc/shmem.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "bgw/launcher.h"

PG_FUNCTION_INFO_V1(migrate_wake);
PG_FUNCTION_INFO_V1(migrate_scheduler_info);

PGDLLEXPORT void migrate_scheduler_main(Datum main_arg);

/* the timezone_abbreviations schedule() validates with (see migrate--1.0.sql) */
#define MIGRATE_TIMEZONE_ABBREVIATIONS "Default"

/* a due schedule, as read from migrate.schedule */
typedef struct DueSchedule
{
	char	   *name;
	char	   *target;			/* NULL: everything */
	char	   *environment;	/* NULL: any */
	bool		require_approval;
	char	   *created_by;		/* who scheduled it */
	char	   *last_outcome;	/* of the previous run, or NULL */
	bool		in_window;
	bool		gone;			/* unscheduled since it was read */
	TimestampTz window_end;		/* 0 without a window */
} DueSchedule;

/* a migration a run will apply, and the role its worker connects as */
typedef struct PlannedMigration
{
	char	   *version;
	char	   *role;
	Oid			roleid;
	bool		by_registrant;	/* role is its registrant (no worker_role) */
	char	   *checksum;		/* of the up script planned */
} PlannedMigration;

/* what a run is to do, and how it went */
typedef struct ScheduledRunPlan
{
	List	   *migrations;		/* of PlannedMigration */
	char	   *held_back;		/* first migration it may not apply, or NULL */
	char	   *reason;			/* ... and why */
	char	   *waiting_for;	/* ... and what would let it go on */
	bool		role_held;		/* held back: its role cannot connect, or
								 * was not authorised */
	bool		approval_required;	/* by the schedule or the environment */
	MigrateSchedRunStatus result;	/* how the last worker ended */
	int			done;			/* migrations applied */
	const char *stopped_at;		/* migration it stopped at, if a worker did */
	int			sqlerrcode;		/* failure: the error */
	char	   *message;
} ScheduledRunPlan;

static int	my_slot = -1;

/* whether this scheduler holds the migrate lock for a run */
static bool holding_lock = false;

/* lappend in a given context: SPI calls leave us in SPI's own context */
static List *
lappend_in(MemoryContext context, List *list, void *datum)
{
	MemoryContext old = MemoryContextSwitchTo(context);

	list = lappend(list, datum);
	MemoryContextSwitchTo(old);
	return list;
}

static char *
spi_text_copy(int row, int column, MemoryContext keep)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);

	return value ? MemoryContextStrdup(keep, value) : NULL;
}

/*
 * Due schedules, unless the scheduler is paused.  Also returns, through
 * *sleep_ms, how long to sleep until the next one is due.  Nothing here
 * depends on a schedule's time zone or interval: a schedule that cannot
 * be evaluated fails in its own error boundary (see run_due_schedule),
 * not here for every schedule of the database.
 */
static List *
read_due_schedules(MemoryContext keep, long *sleep_ms)
{
	List	   *due = NIL;
	bool		isnull;

	*sleep_ms = migrate_naptime * 1000L;
	migrate_spi_run_pinned("SELECT s.name, s.target, s.environment, s.require_approval, s.last_outcome,"
						   " s.next_run_at OPERATOR(pg_catalog.<=) pg_catalog.now(),"
						   " CASE WHEN pg_catalog.isfinite(s.next_run_at) THEN"
						   "  pg_catalog.ceil(pg_catalog.date_part('epoch',"
						   "   s.next_run_at OPERATOR(pg_catalog.-) pg_catalog.now())"
						   "   OPERATOR(pg_catalog.*) 1000::pg_catalog.float8)::pg_catalog.int8 END,"
						   " s.created_by"
						   " FROM migrate.schedule s"
						   " WHERE s.enabled"
						   " AND NOT EXISTS (SELECT FROM migrate.scheduler_state st WHERE st.paused)"
						   " ORDER BY s.next_run_at, s.name",
						   0, NULL, NULL, NULL, false, SPI_OK_SELECT);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		wait = SPI_getbinval(tuple, desc, 7, &isnull);
		DueSchedule *s;

		if (!DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull)))
		{
			if (!isnull)
				*sleep_ms = Min(*sleep_ms, (long) Max(DatumGetInt64(wait), 1));
			continue;
		}
		s = MemoryContextAllocZero(keep, sizeof(DueSchedule));
		s->name = spi_text_copy(i, 1, keep);
		s->target = spi_text_copy(i, 2, keep);
		s->environment = spi_text_copy(i, 3, keep);
		s->require_approval = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		s->last_outcome = spi_text_copy(i, 5, keep);
		s->created_by = spi_text_copy(i, 8, keep);
		due = lappend_in(keep, due, s);
		*sleep_ms = 0;
	}
	return due;
}

/*
 * Whether the schedule is inside its window now, and until when (in its
 * time zone, under the pinned timezone_abbreviations).  Errors (a time
 * zone that does not exist) are the schedule's own.
 */
static void
read_window(DueSchedule *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(s->name)};
	bool		isnull;
	bool		no_window;
	Datum		window_end;

	migrate_spi_run_pinned("SELECT migrate.window_end_at(pg_catalog.now(), s.window_start, s.window_end,"
						   "                            s.timezone),"
						   " s.window_start IS NULL"
						   " FROM migrate.schedule s WHERE s.name OPERATOR(pg_catalog.=) $1",
						   1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1)
	{
		s->in_window = false;	/* unscheduled meanwhile */
		s->gone = true;
		return;
	}
	window_end = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	no_window = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
										   &isnull));
	s->in_window = no_window || window_end != (Datum) 0;
	if (!no_window && window_end != (Datum) 0)
		s->window_end = DatumGetTimestampTz(window_end);
}

/*
 * Note how this run of a schedule ended, and move it to its next time
 * unless "again" says it should be tried on the next round (no lock, no
 * worker slot).
 */
static void
advance_schedule(const char *name, const char *outcome, const char *waiting_for, bool again)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(outcome);
	migrate_catalog_set_text_arg(values, nulls, 2, waiting_for);
	values[3] = BoolGetDatum(again);
	migrate_spi_run_pinned("UPDATE migrate.schedule SET last_run_at = pg_catalog.now(), last_outcome = $2,"
						   " waiting_for = $3,"
						   " next_run_at = CASE WHEN $4 THEN next_run_at"
						   "                    WHEN every IS NOT NULL"
						   "                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) every"
						   "                    ELSE migrate.cron_next(cron, pg_catalog.now(), timezone) END"
						   " WHERE name OPERATOR(pg_catalog.=) $1",
						   4, argtypes, values, nulls, false, SPI_OK_UPDATE);
}

/*
 * A schedule whose own row cannot be evaluated (see run_due_schedule):
 * note the error and try it again in a minute, whatever its interval.
 */
static void
park_broken_schedule(const char *name, const char *outcome)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(name), CStringGetTextDatum(outcome)};

	migrate_spi_run_pinned("UPDATE migrate.schedule SET last_run_at = pg_catalog.now(), last_outcome = $2,"
						   " waiting_for = NULL,"
						   " next_run_at = pg_catalog.now() OPERATOR(pg_catalog.+) '1 minute'::pg_catalog.interval"
						   " WHERE name OPERATOR(pg_catalog.=) $1",
						   2, argtypes, values, NULL, false, SPI_OK_UPDATE);
}

/*
 * The role a migration runs as: migrate.worker_role, or the role that
 * registered it.
 */
static const char *
run_as_role(const MigrateMigration *m)
{
	if (migrate_worker_role != NULL && migrate_worker_role[0] != '\0')
		return migrate_worker_role;
	return m->registered_by;
}

/*
 * Whether a worker can connect as "rolename"; fills *roleid.  PostgreSQL
 * 15 refuses a background worker connection as a role without LOGIN, and
 * the scheduler never falls back to its own superuser identity.
 */
static char *
role_cannot_run(const char *rolename, Oid *roleid)
{
	HeapTuple	tuple = SearchSysCache1(AUTHNAME, CStringGetDatum(rolename));
	bool		canlogin;

	if (!HeapTupleIsValid(tuple))
		return psprintf("role \"%s\", which does not exist", rolename);
	*roleid = ((Form_pg_authid) GETSTRUCT(tuple))->oid;
	canlogin = ((Form_pg_authid) GETSTRUCT(tuple))->rolcanlogin;
	ReleaseSysCache(tuple);
	if (!canlogin)
		return psprintf("role \"%s\", which cannot log in", rolename);
	return NULL;
}

/* the role that approved a migration, or NULL */
static char *
approved_by(const char *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};

	migrate_spi_run_pinned("SELECT m.approved_by FROM migrate.migration m"
						   " WHERE m.version OPERATOR(pg_catalog.=) $1",
						   1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Why the schedule may not run this migration as "roleid", or NULL when it
 * may: the role that authorised it (approved it when the schedule requires
 * approval, else scheduled it) must have that role's privileges, or it
 * would have a superuser's migration run at its word, in an environment
 * (functions, operators on the registrant's search_path) it may control.
 * migrate.worker_role, which only a superuser sets, is not checked.
 */
static char *
not_authorised(const DueSchedule *s, const ScheduledRunPlan *run, const MigrateMigration *m,
			   const char *role, Oid roleid)
{
	char	   *authoriser;
	const char *how;
	Oid			authoriser_id;

	if (migrate_worker_role != NULL && migrate_worker_role[0] != '\0')
		return NULL;
	if (run->approval_required)
	{
		authoriser = approved_by(m->version);
		how = "approved";
	}
	else
	{
		authoriser = s->created_by;
		how = "scheduled";
	}
	if (authoriser == NULL)
		return psprintf("migration %s would run as role \"%s\", but no role is recorded as having %s it",
						m->version, role, how);
	authoriser_id = get_role_oid(authoriser, true);
	if (OidIsValid(authoriser_id) && has_privs_of_role(authoriser_id, roleid))
		return NULL;
	return psprintf("migration %s would run as role \"%s\", but it was %s by \"%s\", who does not have the privileges of \"%s\"",
					m->version, role, how, authoriser, role);
}

/*
 * Why a schedule may not apply this migration, or NULL when it may.  A
 * failed one waits for a human (a new version of it, registered, is
 * pending again): retrying it on every firing would only fail again.
 * Approvals (the schedule's or the environment's, four-eyes) and the
 * environment's risk gate are guard.c's: a scheduled run never forces.
 * *waiting_for says what would let it go on.
 */
static const char *
held_back_because(const DueSchedule *s, const MigrateEnvironment *env,
				  const MigrateMigration *m, char **waiting_for)
{
	ListCell   *lc;
	const char *guarded;

	if (strcmp(m->state, "failed") == 0)
	{
		*waiting_for = psprintf("a fix of failed %s", m->version);
		return "failed: waiting for a fix";
	}
	guarded = migrate_guard_held_back(env, m, s->require_approval, waiting_for);
	if (guarded != NULL)
		return guarded;
	if (s->environment == NULL || m->environments == NIL)
		return NULL;
	foreach(lc, m->environments)
		if (strcmp(lfirst(lc), s->environment) == 0)
			return NULL;
	*waiting_for = psprintf("%s to be meant for environment %s", m->version, s->environment);
	return "not for this environment";
}

/*
 * Is the database read-only for new sessions (ALTER DATABASE ... SET
 * default_transaction_read_only = on)?  Its workers could not record
 * anything, so nothing is started; the scheduler's own session has the
 * setting off.
 */
static bool
database_is_read_only(void)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(MyDatabaseId)};
	bool		read_only = false;

	migrate_spi_run_pinned("SELECT pg_catalog.split_part(c, '=', 2)"
						   " FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) AS c"
						   " WHERE s.setdatabase OPERATOR(pg_catalog.=) $1"
						   " AND s.setrole OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
						   " AND pg_catalog.split_part(c, '=', 1) OPERATOR(pg_catalog.=)"
						   "     'default_transaction_read_only'",
						   1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value == NULL || !parse_bool(value, &read_only))
			read_only = false;
	}
	return read_only;
}

/*
 * The migrations this run applies, in order: the leading part of
 * apply(target)'s plan that the schedule allows, each with the role its
 * worker connects as.  run->held_back names the first one it stops at,
 * with the reason.
 */
static void
plan_run(const DueSchedule *s, ScheduledRunPlan *run, MemoryContext keep)
{
	MigrateMigration *registry;
	int			count;
	List	   *plan;
	ListCell   *lc;
	const MigrateEnvironment *env = migrate_environment_current();

	/* the environment may require approval where the schedule does not */
	run->approval_required = s->require_approval || env->require_approval;
	registry = migrate_catalog_load_registry(&count);
	plan = migrate_plan_apply(registry, count, s->target);
	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);
		const char *role = run_as_role(m);
		char	   *waiting_for = NULL;
		const char *reason = held_back_because(s, env, m, &waiting_for);
		char	   *role_problem = NULL;
		char	   *authorisation = NULL;
		PlannedMigration *p;
		Oid			roleid = InvalidOid;

		if (reason == NULL)
			role_problem = role_cannot_run(role, &roleid);
		if (reason == NULL && role_problem == NULL)
			authorisation = not_authorised(s, run, m, role, roleid);
		if (reason != NULL || role_problem != NULL || authorisation != NULL)
		{
			run->held_back = MemoryContextStrdup(keep, m->version);
			if (authorisation != NULL)
			{
				run->reason = MemoryContextStrdup(keep, authorisation);
				run->waiting_for = MemoryContextStrdup(keep,
													   psprintf("%s by a role with the privileges of \"%s\"",
																run->approval_required ?
																"approval" : "a schedule",
																role));
				run->role_held = true;
			}
			else if (role_problem != NULL)
			{
				run->reason = MemoryContextStrdup(keep,
												  psprintf("migration %s would run as %s",
														   m->version, role_problem));
				run->waiting_for = MemoryContextStrdup(keep,
													   OidIsValid(roleid) ?
													   psprintf("LOGIN for role \"%s\"", role) :
													   psprintf("role \"%s\" to exist", role));
				run->role_held = true;
			}
			else
			{
				run->reason = MemoryContextStrdup(keep, reason);
				run->waiting_for = MemoryContextStrdup(keep, waiting_for);
			}
			break;
		}
		p = MemoryContextAllocZero(keep, sizeof(PlannedMigration));
		p->version = MemoryContextStrdup(keep, m->version);
		p->role = MemoryContextStrdup(keep, role);
		p->roleid = roleid;
		p->by_registrant = !(migrate_worker_role != NULL && migrate_worker_role[0] != '\0');
		p->checksum = MemoryContextStrdup(keep, m->checksum);
		run->migrations = lappend_in(keep, run->migrations, p);
	}
}

/* the history row of a scheduled run */
static void
record_run(const DueSchedule *s, const char *outcome, int applied,
		   const char *stopped_at, const char *reason, int sqlerrcode,
		   const char *message, TimestampTz started)
{
	MigrateEvent event = {0};
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "by", "scheduler");
	migrate_json_add_text(&detail, "schedule", s->name);
	migrate_json_add_int(&detail, "applied", applied);
	if (stopped_at)
		migrate_json_add_text(&detail, "stopped_at", stopped_at);
	if (reason)
		migrate_json_add_text(&detail, "reason", reason);
	migrate_json_end(&detail);

	event.action = "run";
	event.outcome = outcome;
	event.role = migrate_catalog_current_role();
	event.started_at = started;
	event.duration_us = GetCurrentTimestamp() - started;
	event.detail = migrate_json_finish(&detail);
	if (message)
		event.error = migrate_json_build_error(sqlerrcode, message);
	migrate_catalog_insert_event(&event);
}

/* the run outcome that a window too short for the next migration leaves */
#define WINDOW_CLOSING "waiting for a longer window"

/* a run that stops at the same place as the one before needs no new row */
static bool
last_outcome_was(const DueSchedule *s, const char *outcome)
{
	return s->last_outcome != NULL && strcmp(s->last_outcome, outcome) == 0;
}

/*
 * Run the planned migrations, each in a worker of its own (schedworker.c),
 * in order, stopping at the first that does not complete.  Fills in how
 * the run ended.
 */
static void
run_workers(const DueSchedule *s, ScheduledRunPlan *run, MemoryContext keep)
{
	int			total = list_length(run->migrations);
	ListCell   *lc;

	foreach(lc, run->migrations)
	{
		PlannedMigration *p = lfirst(lc);
		MigrateSchedPlanned planned = {p->version, p->roleid, p->by_registrant, p->checksum,
		run->approval_required};
		MigrateSchedRunResult r;

		r = migrate_schedworker_run(&planned, s->name,
									foreach_current_index(lc) + 1, total, s->window_end);
		MemoryContextSwitchTo(keep);
		if (r.status == SCHEDRUN_DONE)
		{
			run->done++;
			continue;
		}
		if (r.status == SCHEDRUN_SKIPPED)
			continue;
		run->stopped_at = p->version;
		run->result = r.status;
		if (r.status == SCHEDRUN_FAILED)
		{
			run->sqlerrcode = r.sqlerrcode;
			run->message = r.message;
		}
		else if (r.status == SCHEDRUN_CHANGED)
		{
			run->sqlerrcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			run->message = r.message;
		}
		else if (r.status == SCHEDRUN_NO_RESULT)
		{
			run->sqlerrcode = ERRCODE_CONNECTION_FAILURE;
			run->message = psprintf("the worker for migration %s, connecting as role \"%s\", exited without a result (see the server log)",
									p->version, p->role);
		}
		break;
	}
}

/*
 * Record how a run ended (history, last_outcome, waiting_for) and move the
 * schedule on.  Returns false when the schedule should be tried again on
 * the next round.
 */
static bool
finish_run(const DueSchedule *s, const ScheduledRunPlan *run, TimestampTz started)
{
	const char *outcome = "success";
	const char *waiting_for = NULL;
	const char *reason = NULL;
	const char *event_outcome = "success";
	bool		again = false;
	bool		notable = false;

	switch (run->result)
	{
		case SCHEDRUN_DONE:
		case SCHEDRUN_SKIPPED:
			/* everything ran, or it stopped at a migration it may not apply */
			waiting_for = run->waiting_for;
			reason = run->reason;
			if (run->role_held)
			{
				outcome = psprintf("held back: %s", run->reason);
				notable = true;
			}
			else if (run->done == 0 && waiting_for != NULL)
				outcome = psprintf("waiting for %s", waiting_for);
			break;
		case SCHEDRUN_WINDOW_CLOSING:
			outcome = WINDOW_CLOSING;
			waiting_for = psprintf("a longer window for %s", run->stopped_at);
			reason = "its estimated duration would overrun the window";
			notable = true;
			break;
		case SCHEDRUN_FAILED:
			outcome = "failure";
			event_outcome = "failure";
			reason = "migration failed";
			break;
		case SCHEDRUN_NO_RESULT:
			/* it never ran, so it is tried again: record it once */
			outcome = psprintf("failure: %s", run->message);
			event_outcome = "failure";
			reason = "the migration's worker did not run it";
			notable = true;
			break;
		case SCHEDRUN_CHANGED:
			/* not run: the next run plans it again, as it is now */
			outcome = psprintf("held back: %s", run->message);
			event_outcome = "failure";
			reason = "the migration changed since the run was planned";
			notable = true;
			break;
		case SCHEDRUN_NO_SLOT:
			outcome = "waiting for a background worker slot";
			waiting_for = "a background worker slot";
			reason = outcome;
			again = true;
			break;
		case SCHEDRUN_LOCK_BUSY:
			outcome = "waiting for the migrate lock";
			waiting_for = "the migrate lock";
			reason = outcome;
			again = true;
			break;
		case SCHEDRUN_READ_ONLY:
			outcome = "database is read-only";
			waiting_for = "the database to be writable";
			reason = outcome;
			notable = true;
			break;
	}

	if (run->message != NULL)
		ereport(LOG,
				(errmsg("migrate schedule \"%s\" stopped: %s", s->name, run->message)));

	if ((run->message != NULL && !notable) || run->done > 0 ||
		(notable && !last_outcome_was(s, outcome)))
		record_run(s, event_outcome, run->done,
				   run->stopped_at ? run->stopped_at : run->held_back, reason,
				   run->sqlerrcode, run->message, started);
	advance_schedule(s->name, outcome, waiting_for, again && run->done == 0);
	return !(again && run->done == 0);
}

/*
 * Run one due schedule inside its window.  Errors in planning (a dirty
 * migration, a cycle) are recorded as a failed run.  Returns false when
 * the schedule stays due (someone holds the lock, no worker slot).
 */
static bool
run_schedule(const DueSchedule *s, MemoryContext keep)
{
	TimestampTz started = GetCurrentTimestamp();
	ScheduledRunPlan *run = MemoryContextAllocZero(keep, sizeof(ScheduledRunPlan));
	ErrorData  *plan_error = NULL;
	bool		read_only = false;
	bool		moved_on;

	/* lock for the whole run, or try again after naptime */
	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	holding_lock = migrate_lock_session_try();
	migrate_xact_end_work(keep);
	if (!holding_lock)
		return false;

	pgstat_report_activity(STATE_RUNNING, psprintf("running schedule %s", s->name));
	PG_TRY();
	{
		migrate_xact_begin_work(MIGRATE_WORK_SPI);
		read_only = database_is_read_only();
		if (!read_only)
			plan_run(s, run, keep);
		migrate_xact_end_work(keep);
	}
	PG_CATCH();
	{
		plan_error = migrate_xact_abort_work(keep);
	}
	PG_END_TRY();

	if (plan_error != NULL)
	{
		run->result = SCHEDRUN_FAILED;
		run->sqlerrcode = plan_error->sqlerrcode;
		run->message = plan_error->message;
		run->stopped_at = NULL;
	}
	else if (read_only)
		run->result = SCHEDRUN_READ_ONLY;
	else
	{
		run->result = SCHEDRUN_DONE;
		run_workers(s, run, keep);
	}

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	if (plan_error != NULL)
	{
		record_run(s, "failure", 0, NULL, "could not plan", plan_error->sqlerrcode,
				   plan_error->message, started);
		advance_schedule(s->name, "failure", NULL, false);
		moved_on = true;
	}
	else
		moved_on = finish_run(s, run, started);
	migrate_xact_end_work(keep);

	migrate_lock_session_release();
	holding_lock = false;
	pgstat_report_activity(STATE_IDLE, NULL);
	return moved_on;
}

/*
 * Report a schedule that failed outside any migration: a 'run' row with
 * the error (once, while the error stays the same) and last_outcome.
 * An error here is only logged, so the round goes on.
 */
static void
record_broken_schedule(const DueSchedule *s, const ErrorData *edata, MemoryContext keep)
{
	char	   *outcome = psprintf("failure: %s", edata->message ? edata->message : "");

	PG_TRY();
	{
		migrate_xact_begin_work(MIGRATE_WORK_SPI);
		if (!last_outcome_was(s, outcome))
			record_run(s, "failure", 0, NULL, "the schedule could not be evaluated",
					   edata->sqlerrcode, edata->message ? edata->message : "",
					   GetCurrentTimestamp());
		park_broken_schedule(s->name, outcome);
		migrate_xact_end_work(keep);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();
		MemoryContextSwitchTo(keep);
	}
	PG_END_TRY();
}

/*
 * One due schedule, in an error boundary of its own: a schedule whose row
 * cannot be evaluated (a time zone the scheduler does not know, an
 * interval that overflows) is reported in the history and in its
 * last_outcome, and the other schedules of the database still run.
 * Returns false when the schedule stays due.
 */
static bool
run_due_schedule(DueSchedule *s, MemoryContext keep)
{
	volatile bool moved_on = true;
	ErrorData  *edata;

	PG_TRY();
	{
		migrate_xact_begin_work(MIGRATE_WORK_SPI);
		read_window(s);
		if (!s->gone && !s->in_window)
			advance_schedule(s->name, "outside window", NULL, false);
		migrate_xact_end_work(keep);
		if (!s->gone && s->in_window)
			moved_on = run_schedule(s, keep);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(keep);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		if (holding_lock)
			migrate_lock_session_release();
		holding_lock = false;
		RESUME_INTERRUPTS();
		MemoryContextSwitchTo(keep);

		ereport(LOG,
				(errmsg("migrate schedule \"%s\" failed: %s", s->name, edata->message)));
		record_broken_schedule(s, edata, keep);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_END_TRY();
	return moved_on;
}

/*
 * Whether the extension is installed in this database.  Before looking, the
 * scheduler's slot takes the current wake generation, so that the launcher
 * can tell an "idle" answer given before a CREATE EXTENSION from one given
 * after it.
 */
static bool
extension_installed(void)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		installed;

	/*
	 * A CREATE EXTENSION, schedule() or resume() committed after this check
	 * has a later generation: the launcher then ignores our "idle" answer.
	 * The schedule check below runs later still, so this covers it too.
	 */
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].generation = migrate_shared->wake_generation;
	LWLockRelease(migrate_shared->lock);

	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	installed = OidIsValid(get_extension_oid("migrate", true));
	migrate_xact_end_work(caller);
	return installed;
}

static void
forget_scheduler(int code, Datum arg)
{
	if (my_slot < 0)
		return;
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->schedulers[my_slot].pid = 0;
	if (migrate_shared->launcher_latch)
		SetLatch(migrate_shared->launcher_latch);
	LWLockRelease(migrate_shared->lock);
}

/* claim the slot the launcher prepared for this database */
static void
claim_slot(Oid database)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
		if (migrate_shared->schedulers[i].database == database)
		{
			my_slot = i;
			migrate_shared->schedulers[i].pid = MyProcPid;
			break;
		}
	LWLockRelease(migrate_shared->lock);
	before_shmem_exit(forget_scheduler, (Datum) 0);
}

/*
 * Whether this database needs a scheduler beyond this round: a schedule is
 * enabled (a paused scheduler stays, so that pause() and resume() are
 * seen within naptime).  Says so in the slot, which makes this scheduler
 * count as running rather than as a probe.
 */
static bool
has_enabled_schedule(void)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		found;
	bool		isnull;

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	migrate_spi_run_pinned("SELECT EXISTS (SELECT FROM migrate.schedule s WHERE s.enabled)",
						   0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull));
	migrate_xact_end_work(caller);

	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].active = found;
	LWLockRelease(migrate_shared->lock);
	return found;
}

/*
 * Leave with nothing to do (no extension, or no enabled schedule): the
 * launcher frees the slot and starts no scheduler here again until this
 * database asks for one (request_wakeup) or its next probe.
 */
static void
exit_without_extension(void)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].idle = true;
	LWLockRelease(migrate_shared->lock);
	proc_exit(0);
}

/*
 * One round: exit if the extension is gone or no schedule is enabled
 * (after writing failure records spooled by durable.c), run or skip every
 * due schedule.  Returns how long to sleep.
 */
static long
scheduler_round(MemoryContext keep)
{
	List	   *due;
	long		sleep_ms;
	ListCell   *lc;

	if (!extension_installed())
		exit_without_extension();
	MemoryContextSwitchTo(keep);
	migrate_durable_replay_spool();
	if (!has_enabled_schedule())
		exit_without_extension();
	MemoryContextSwitchTo(keep);

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	due = read_due_schedules(keep, &sleep_ms);
	migrate_xact_end_work(keep);

	foreach(lc, due)
	{
		if (!run_due_schedule(lfirst(lc), keep))
			sleep_ms = migrate_naptime * 1000L;	/* no lock or no worker slot */
	}
	return sleep_ms;
}

/*
 * The scheduler's own session runs nothing but its bookkeeping, with
 * settings that no catalog entry can change: a search_path where no
 * user's function or operator shadows a built-in one, the time zone
 * abbreviations schedule() validates against, and writes allowed even in
 * a database whose new sessions are read-only.
 */
static void
pin_session_settings(void)
{
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("timezone_abbreviations", MIGRATE_TIMEZONE_ABBREVIATIONS, PGC_SUSET,
					PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Entry point of a per-database scheduler.
 */
void
migrate_scheduler_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	MemoryContext loop_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	claim_slot(database);
	pin_session_settings();

	loop_context = AllocSetContextCreate(TopMemoryContext, "migrate scheduler loop",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		sleep_ms = migrate_naptime * 1000L;

		migrate_dynworker_begin_round(loop_context);

		/* an error in one round is logged; the scheduler carries on */
		PG_TRY();
		{
			sleep_ms = scheduler_round(loop_context);
		}
		PG_CATCH();
		{
			HOLD_INTERRUPTS();
			EmitErrorReport();
			AbortOutOfAnyTransaction();
			FlushErrorState();
			if (holding_lock)
				migrate_lock_session_release();
			holding_lock = false;
			migrate_progress_end();
			pgstat_report_activity(STATE_IDLE, NULL);
			RESUME_INTERRUPTS();
		}
		PG_END_TRY();

		/*
		 * Report the table statistics of the round's transactions, so that
		 * autovacuum sees what the scheduler changed: a background worker
		 * has no idle loop that does it.  Forced before sleeping, at most
		 * once a second while rounds follow each other.
		 */
		(void) pgstat_report_stat(sleep_ms > 0);

		if (sleep_ms > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 sleep_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}

/* set at commit: wake the launcher and this database's scheduler */
static bool wakeup_pending = false;

/*
 * Transaction callback of wake(): at commit, ask the launcher for this
 * database's scheduler and set the latch of the one that runs, so that a
 * new or resumed schedule is seen at once; an abort forgets the request.
 */
static void
wake_at_commit(XactEvent event, void *arg)
{
	if (!wakeup_pending)
		return;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wakeup_pending = false;
	if (event != XACT_EVENT_COMMIT)
		return;
	wakeup_pending = false;

	migrate_shmem_ask_for_scheduler(MyDatabaseId);
	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];
		PGPROC	   *proc;

		if (slot->database != MyDatabaseId || slot->pid == 0)
			continue;
		proc = BackendPidGetProc(slot->pid);
		if (proc)
			SetLatch(&proc->procLatch);
	}
	LWLockRelease(migrate_shared->lock);
}

/*
 * Ask the launcher for a scheduler in this database, and its scheduler (if
 * running) to look again, once the current transaction commits (a new
 * extension, schedule or resume is not visible to them before).  The
 * request names this database only: the launcher probes no other.  A no-op
 * without the launcher.
 */
static void
request_wakeup(void)
{
	static bool registered = false;

	if (migrate_shared == NULL)
		return;
	if (!registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		registered = true;
	}
	wakeup_pending = true;
}

/* migrate.wake(): see request_wakeup */
Datum
migrate_wake(PG_FUNCTION_ARGS)
{
	request_wakeup();
	PG_RETURN_VOID();
}

/*
 * migrate.scheduler_info(): whether the library is preloaded, and the pids
 * of the launcher and of this database's scheduler (NULL when none).
 */
Datum
migrate_scheduler_info(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, true, true};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(migrate_shared != NULL);
	if (migrate_shared != NULL)
	{
		LWLockAcquire(migrate_shared->lock, LW_SHARED);
		if (migrate_shared->launcher_pid != 0)
		{
			values[1] = Int32GetDatum(migrate_shared->launcher_pid);
			nulls[1] = false;
		}
		for (int i = 0; i < migrate_shared->nschedulers; i++)
		{
			MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];

			if (slot->database == MyDatabaseId && slot->pid != 0)
			{
				values[2] = Int32GetDatum(slot->pid);
				nulls[2] = false;
			}
		}
		LWLockRelease(migrate_shared->lock);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
