/*-------------------------------------------------------------------------
 *
 * handoff.c
 *	  The worker path's hand-off: apply() handing a plan with
 *	  non-transactional migrations to the apply worker, and that worker.
 *
 * CREATE INDEX CONCURRENTLY and its kind cannot run inside a function, so
 * when a plan holds such a migration, migrate.apply() (or revert()) hands
 * the whole plan to a dynamic background worker, which runs it one
 * migration per transaction (the worker path, worker_run.c), and waits
 * for it.  The worker's NOTICEs, WARNINGs and final ERROR travel back
 * through a shm_mq, the way parallel workers report to their leader, and
 * apply() re-raises them, so psql sees the same messages as for an
 * ordinary apply().  apply() then
 * returns one row per migration the worker completed.
 *
 * Why apply() must not be inside a transaction block for such a plan: the
 * worker commits each migration on its own, so it cannot see anything the
 * caller's transaction has not committed, and nothing the caller does
 * after the call could be rolled back together with it.  So the call is
 * refused inside BEGIN ... COMMIT, and after any change in the same
 * transaction.
 *
 * Locks.  The caller holds the migrate lock (transaction level), and the
 * worker needs it too, for a run that outlives single transactions.  The
 * caller therefore makes itself a lock group leader and the worker joins
 * its group before connecting, as a parallel worker does: the two hold
 * the lock together, and if the caller goes away the worker still holds
 * it until its run ends.  Group membership also matters for CREATE INDEX
 * CONCURRENTLY: it waits for every transaction whose snapshot is older
 * than its own, which includes the caller, who is waiting for the worker.
 * Outside a group that is an undetectable deadlock; inside one the wait on
 * the caller's virtual transaction is not a conflict.  That is safe here
 * because the caller reads nothing but migrate's own catalog after the
 * handoff, and only with fresh snapshots.
 *
 * The worker connects as the caller's authenticated user and restores the
 * caller's session user, role and current user, so migration SQL runs
 * with the caller's privileges, and with its search_path.  After each
 * non-transactional migration it resets its session and restores them
 * again, so that what the migration SET (its SETs outlive its statements'
 * transactions) does not reach the next one; a transactional migration's
 * SETs end with its script (engine.c).  apply() refuses to start in
 * a read-only transaction, so the worker runs read-write too, whatever
 * the database's default_transaction_read_only says.
 *
 * IDENTIFICATION
 *	  src/exec/handoff.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "store/catalog.h"
#include "ipc/dynworker.h"
#include "exec/guard.h"
#include "exec/handoff.h"
#include "exec/message.h"
#include "store/lock.h"
#include "exec/noparallel.h"
#include "exec/plan.h"
#include "exec/skip.h"
#include "exec/worker_run.h"
#include "ipc/xact.h"

#define HANDOFF_MAGIC		0x6d696772	/* "migr" */
#define KEY_REQUEST			1
#define KEY_STRINGS			2
#define KEY_OUTCOMES		3
#define KEY_QUEUE			4
#define KEY_FORCED			5	/* per migration: the gates force opened (guard.c) */
#define QUEUE_SIZE			(64 * 1024)
#define SETTING_LEN			64

/* who the caller is, and what to run */
typedef struct HandoffRequest
{
	Oid			database;
	Oid			authenticated_user;
	Oid			session_user;
	Oid			outer_user;
	Oid			current_user;
	int			sec_context;
	PGPROC	   *leader;
	pid_t		leader_pid;
	MigrateDirection	direction;
	bool		skip_backup;	/* the caller passed skip_backup => true */
	int			nmigrations;
	char		progress_level[SETTING_LEN];
	char		client_min_messages[SETTING_LEN];
	char		environment[SETTING_LEN];	/* migrate.environment: whose rails */
	/* strings: the versions, then search_path, each NUL-terminated */
} HandoffRequest;

PGDLLEXPORT void migrate_handoff_worker_main(Datum main_arg);

/*
 * Refuse a handoff that could not keep its promises (see the header).
 */
static void
check_can_hand_off(List *plan, MigrateDirection direction)
{
	MigrateMigration *first = list_nth(plan, migrate_plan_first_nontransactional(plan, direction));

	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migration \"%s\" cannot run inside a transaction block", first->version),
				 errdetail("It contains a statement such as CREATE INDEX CONCURRENTLY, or is marked \"@transaction: false\"; a background worker runs such a plan one migration at a time."),
				 errhint("Call migrate.%s() on its own, outside BEGIN ... COMMIT.",
						 direction == DIRECTION_UP ? "apply" : "revert")));
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migration \"%s\" cannot run after changes in the same transaction",
						first->version),
				 errdetail("A background worker runs it and cannot see changes this transaction has not committed."),
				 errhint("Commit first, then call migrate.%s() on its own.",
						 direction == DIRECTION_UP ? "apply" : "revert")));
}

/* bytes the request's strings take: the plan's versions and search_path */
static Size
strings_size(List *plan, const char *search_path)
{
	Size		size = strlen(search_path) + 1;
	ListCell   *lc;

	foreach(lc, plan)
		size += strlen(((MigrateMigration *) lfirst(lc))->version) + 1;
	return size;
}

/*
 * Describe the caller (database, identity, lock group leader, the message
 * settings the worker must honour) and the plan in the segment: the
 * worker re-reads each migration by version, so versions are all it needs.
 */
static void
fill_request(HandoffRequest *req, char *strings, List *plan, MigrateDirection direction,
			 const MigrateRunInfo *info, const char *search_path)
{
	ListCell   *lc;

	req->database = MyDatabaseId;
	req->authenticated_user = GetAuthenticatedUserId();
	req->session_user = GetSessionUserId();
	req->outer_user = GetOuterUserId();
	GetUserIdAndSecContext(&req->current_user, &req->sec_context);
	req->leader = MyProc;
	req->leader_pid = MyProcPid;
	req->direction = direction;
	req->skip_backup = info != NULL && info->skip_backup;
	req->nmigrations = list_length(plan);
	strlcpy(req->progress_level, GetConfigOption("migrate.progress_level", false, false),
			SETTING_LEN);
	strlcpy(req->client_min_messages, GetConfigOption("client_min_messages", false, false),
			SETTING_LEN);
	strlcpy(req->environment, GetConfigOption("migrate.environment", false, false),
			SETTING_LEN);

	foreach(lc, plan)
	{
		const char *version = ((MigrateMigration *) lfirst(lc))->version;

		strcpy(strings, version);
		strings += strlen(version) + 1;
	}
	strcpy(strings, search_path);
}

/* re-raise a NOTICE, WARNING or ERROR the worker sent */
static void
relay_message(const char *data, Size nbytes)
{
	StringInfoData msg;
	char		msgtype;

	initStringInfo(&msg);
	appendBinaryStringInfo(&msg, data, nbytes);
	msgtype = pq_getmsgbyte(&msg);
	if (msgtype == 'E' || msgtype == 'N')
	{
		ErrorData	edata;

		pq_parse_errornotice(&msg, &edata);
		edata.elevel = Min(edata.elevel, ERROR);
		ThrowErrorData(&edata);
	}
	pfree(msg.data);
}

/*
 * Start the apply worker on the segment, waiting a while for a free
 * background worker slot; when none frees up, fail before anything ran,
 * saying which workers hold the slots.
 */
static BackgroundWorkerHandle *
start_apply_worker(dsm_segment *seg)
{
	BackgroundWorkerHandle *handle;

	/* a slot is often freed within moments: a probing scheduler, a recorder */
	handle = migrate_dynworker_start_waiting("migrate_handoff_worker_main", "migrate apply worker",
											 psprintf("migrate apply worker for PID %d", MyProcPid),
											 UInt32GetDatum(dsm_segment_handle(seg)),
											 APPLY_WORKER_SLOT_WAIT_MS);
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for non-transactional migrations"),
				 errdetail("No background worker slot was free for %d s. %s",
						   APPLY_WORKER_SLOT_WAIT_MS / 1000, migrate_dynworker_describe_slots()),
				 errhint("Raise max_worker_processes (it needs migrate.max_workers + %d), or try again when fewer workers run; nothing was applied.",
						 MIGRATE_WORKERS_BESIDES_SCHEDULERS)));
	return handle;
}

/*
 * In the PG_CATCH of the wait for the worker, once the worker has stopped:
 * re-throw the error with a CONTEXT line saying what the run committed
 * and how it left the migration it was running, read from the outcomes
 * the worker keeps in the segment ("001 and 002 stay applied; 003 was
 * interrupted at statement 2 and is dirty").  That is for an error that
 * stopped the run from outside: a cancel, a statement timeout, the worker
 * terminated.  The error of a failed migration, which the worker relays,
 * says it already (throw_run_error), and goes on as it is.
 */
static void
rethrow_saying_what_stays(List *plan, MigrateDirection direction,
						  const MigrateOutcome *shared_outcomes, MemoryContext memory)
{
	List	   *versions = NIL;
	ErrorData  *edata;
	char	   *line;
	ListCell   *lc;

	for (int i = 0; i < list_length(plan); i++)
		if (shared_outcomes[i].failed)
			PG_RE_THROW();

	MemoryContextSwitchTo(memory);
	edata = CopyErrorData();
	FlushErrorState();
	foreach(lc, plan)
		versions = lappend(versions, ((MigrateMigration *) lfirst(lc))->version);
	line = migrate_message_worker_interrupted(versions, direction, shared_outcomes);
	edata->context = edata->context ? psprintf("%s\n%s", edata->context, line) : line;
	ReThrowError(edata);
}

/*
 * Run the plan in a background worker and wait for it, relaying its
 * messages.  Fills "outcomes" for the migrations it completed; raises the
 * worker's error, if any.  This is the front end's side of the worker
 * path; migrate_handoff_worker_main() below is the worker's.  Of the
 * caller's run info the worker honours skip_backup; the guard rails were
 * checked by the caller, and what its force => true let through goes to
 * the worker with the plan (KEY_FORCED), for the history rows it writes.
 */
void
migrate_handoff_run_plan(List *plan, MigrateDirection direction, const MigrateRunInfo *info,
							  MigrateOutcome *outcomes)
{
	const char *search_path = GetConfigOption("search_path", false, false);
	shm_toc_estimator estimator;
	dsm_segment *seg;
	shm_toc    *toc;
	HandoffRequest *req;
	char	   *strings;
	MigrateOutcome *shared_outcomes;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	BackgroundWorkerHandle *handle;
	Size		nbytes;
	void	   *data;
	int		   *forced;
	ListCell   *lc;
	MemoryContext caller_memory = CurrentMemoryContext;

	check_can_hand_off(plan, direction);

	shm_toc_initialize_estimator(&estimator);
	shm_toc_estimate_chunk(&estimator, sizeof(HandoffRequest));
	shm_toc_estimate_chunk(&estimator, strings_size(plan, search_path));
	shm_toc_estimate_chunk(&estimator, sizeof(MigrateOutcome) * list_length(plan));
	shm_toc_estimate_chunk(&estimator, QUEUE_SIZE);
	shm_toc_estimate_chunk(&estimator, sizeof(int) * list_length(plan));
	shm_toc_estimate_keys(&estimator, 5);
	seg = dsm_create(shm_toc_estimate(&estimator), 0);
	toc = shm_toc_create(HANDOFF_MAGIC, dsm_segment_address(seg), shm_toc_estimate(&estimator));

	req = shm_toc_allocate(toc, sizeof(HandoffRequest));
	strings = shm_toc_allocate(toc, strings_size(plan, search_path));
	fill_request(req, strings, plan, direction, info, search_path);
	shared_outcomes = shm_toc_allocate(toc, sizeof(MigrateOutcome) * list_length(plan));
	memset(shared_outcomes, 0, sizeof(MigrateOutcome) * list_length(plan));
	mq = shm_mq_create(shm_toc_allocate(toc, QUEUE_SIZE), QUEUE_SIZE);
	forced = shm_toc_allocate(toc, sizeof(int) * list_length(plan));
	foreach(lc, plan)
		forced[foreach_current_index(lc)] =
			migrate_guard_forced_gates(((MigrateMigration *) lfirst(lc))->version);
	shm_toc_insert(toc, KEY_FORCED, forced);
	shm_toc_insert(toc, KEY_REQUEST, req);
	shm_toc_insert(toc, KEY_STRINGS, strings);
	shm_toc_insert(toc, KEY_OUTCOMES, shared_outcomes);
	shm_toc_insert(toc, KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);

	BecomeLockGroupLeader();
	handle = start_apply_worker(seg);
	mqh = shm_mq_attach(mq, seg, handle);

	/*
	 * Relay until the worker detaches; its ERROR is raised from here.  If
	 * this call ends for any reason while the worker runs (a cancel, a
	 * timeout), stop the worker first: otherwise it would go on holding the
	 * lock with this session's lock group, and a new call in this session
	 * could run the same migrations beside it.
	 */
	PG_TRY();
	{
		while (shm_mq_receive(mqh, &nbytes, &data, false) == SHM_MQ_SUCCESS)
			relay_message(data, nbytes);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		TerminateBackgroundWorker(handle);
		(void) WaitForBackgroundWorkerShutdown(handle);
		RESUME_INTERRUPTS();
		rethrow_saying_what_stays(plan, direction, shared_outcomes, caller_memory);
	}
	PG_END_TRY();
	(void) WaitForBackgroundWorkerShutdown(handle);

	/* pointers in the worker's outcomes point into its memory: drop them */
	memcpy(outcomes, shared_outcomes, sizeof(MigrateOutcome) * list_length(plan));
	for (int i = 0; i < list_length(plan); i++)
	{
		outcomes[i].fingerprint_before = outcomes[i].fingerprint_after = NULL;
		outcomes[i].note = outcomes[i].skipped ? (char *) migrate_skip_note(&outcomes[i]) : NULL;
	}
	dsm_detach(seg);
}

/*
 * The caller's session user and role, restored in the worker through the
 * GUCs that SET SESSION AUTHORIZATION and SET ROLE use, so that what the
 * GUCs say and who the worker is agree: a migration's own SET ROLE that is
 * rolled back (engine.c) then returns to the caller's role, not to the
 * worker's defaults.  Needs a transaction for the catalog lookups.
 */
static void
restore_caller_identity(HandoffRequest *req)
{
	const char *role = "none";

	/* the GUCs below cannot be set within a security-definer context */
	SetUserIdAndSecContext(GetOuterUserId(), 0);
	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	SetConfigOption("session_authorization", GetUserNameFromId(req->session_user, false),
					PGC_SUSET, PGC_S_SESSION);
	if (req->outer_user != req->session_user)
		role = GetUserNameFromId(req->outer_user, false);
	SetConfigOption("role", role, PGC_SUSET, PGC_S_SESSION);
	migrate_xact_end_work(TopMemoryContext);
	SetUserIdAndSecContext(req->current_user, req->sec_context);
}

/* the caller's identity and settings, restored in the worker */
static void
restore_caller(HandoffRequest *req, const char *search_path)
{
	SetClientEncoding(GetDatabaseEncoding());

	/*
	 * apply() refuses to run in a read-only transaction (apply.c), so the
	 * caller's transaction is read-write, whatever the database's
	 * default_transaction_read_only says: so are the worker's, or its own
	 * bookkeeping would fail with nothing recorded.
	 */
	SetConfigOption("default_transaction_read_only", "off", PGC_USERSET, PGC_S_SESSION);
	restore_caller_identity(req);
	SetConfigOption("search_path", search_path, PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("migrate.progress_level", req->progress_level, PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("client_min_messages", req->client_min_messages, PGC_SUSET, PGC_S_SESSION);
	/* the caller's environment, also when a superuser SET it for the session */
	SetConfigOption("migrate.environment", req->environment, PGC_SUSET, PGC_S_SESSION);
	/* no parallel workers in a lock group member: see noparallel.c */
}

/* what reset_to_caller() restores */
static HandoffRequest *caller_request = NULL;
static const char *caller_search_path = NULL;

/*
 * After each non-transactional migration the worker path calls this
 * (worker_run.c): whatever the migration SET at session level goes, and
 * the caller's settings and identity come back.  Such a migration runs one
 * transaction per statement, so its SETs outlive them and would otherwise
 * reach the next migration of the run.
 */
static void
reset_to_caller(void)
{
	/* in a transaction, so that check hooks may look at the catalog */
	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	ResetAllOptions();
	migrate_xact_end_work(TopMemoryContext);
	restore_caller(caller_request, caller_search_path);
}

/* what the worker's run committed before it failed, for its error */
typedef struct RunLeft
{
	List	   *versions;
	MigrateDirection direction;
	const MigrateOutcome *outcomes;
} RunLeft;

/* the CONTEXT line saying what stays applied after a failed run */
static void
run_left_callback(void *arg)
{
	RunLeft    *left = arg;
	char	   *line = migrate_message_worker_failure(left->versions, left->direction,
													  left->outcomes);

	if (line != NULL)
		errcontext("%s", line);
}

/*
 * Raise the error that stopped the run, which reaches the caller, with a
 * CONTEXT line saying what the run committed before it and how it left
 * the failed migration ("001 and 002 stay applied; 003 failed at
 * statement 2 and is dirty"): unlike a failed apply() in the caller's
 * transaction, this run is not undone.  The callback is pushed around
 * this one ERROR only, so it describes nothing else.
 */
static void
throw_run_error(ErrorData *edata, List *versions, MigrateDirection direction,
				const MigrateOutcome *outcomes)
{
	RunLeft		left = {versions, direction, outcomes};
	ErrorContextCallback errcallback;

	errcallback.callback = run_left_callback;
	errcallback.arg = &left;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	ThrowErrorData(edata);
	error_context_stack = errcallback.previous;
}

/*
 * Entry point of the apply worker: attach to the caller's segment, send
 * every message to the caller, join its lock group, connect as the caller
 * and restore its identity and settings, take the migrate lock for the
 * session (granted at once inside the group) and run the plan through the
 * worker path.  Its ERROR, if any, is re-raised by the caller.
 */
void
migrate_handoff_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	HandoffRequest *req;
	char	   *strings;
	int		   *forced;
	MigrateOutcome *outcomes;
	shm_mq	   *mq;
	List	   *versions = NIL;
	MigrateRunInfo info = {NULL, "apply worker", 1, 0, false};
	MigrateWorkerResult result;

	seg = migrate_dynworker_attach(main_arg, "migrate handoff segment");
	toc = shm_toc_attach(HANDOFF_MAGIC, dsm_segment_address(seg));
	req = shm_toc_lookup(toc, KEY_REQUEST, false);
	strings = shm_toc_lookup(toc, KEY_STRINGS, false);
	outcomes = shm_toc_lookup(toc, KEY_OUTCOMES, false);
	mq = shm_toc_lookup(toc, KEY_QUEUE, false);
	forced = shm_toc_lookup(toc, KEY_FORCED, false);

	/* from here on, every message goes to the waiting caller */
	shm_mq_set_sender(mq, MyProc);
	pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));

	/* join the caller's lock group before taking any heavyweight lock */
	if (!BecomeLockGroupMember(req->leader, req->leader_pid))
		proc_exit(0);				/* the caller is gone already */

	BackgroundWorkerInitializeConnectionByOid(req->database, req->authenticated_user, 0);
	/* a lock group member must never start parallel workers */
	migrate_noparallel_forbid();
	for (int i = 0; i < req->nmigrations; i++)
	{
		versions = lappend(versions, strings);
		/* what the caller's force => true let through, for the history */
		migrate_guard_adopt_forced(strings, forced[i]);
		strings += strlen(strings) + 1;
	}
	restore_caller(req, strings);
	caller_request = req;
	caller_search_path = strings;
	pgstat_report_activity(STATE_RUNNING, "running migrations handed over by migrate.apply()");

	/*
	 * The caller holds the lock and we are in its lock group, so this is
	 * granted at once, even with other sessions queued for the lock (see
	 * lock.c).  It can fail only if the caller has gone meanwhile and
	 * somebody else took the lock.
	 */
	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	if (!migrate_lock_session_try())
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not obtain migrate lock on database \"%s\" for the apply worker",
						get_database_name(MyDatabaseId)),
				 errdetail("The session that handed over the plan no longer holds it."),
				 errhint("Nothing was run; make the call again.")));
	migrate_xact_end_work(TopMemoryContext);

	info.total = req->nmigrations;
	info.skip_backup = req->skip_backup;
	result = migrate_worker_run_plan(versions, req->direction, &info, outcomes, 0,
									 reset_to_caller);
	migrate_lock_session_release();

	if (result.error != NULL)
		throw_run_error(result.error, versions, req->direction, outcomes);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
