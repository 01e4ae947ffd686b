/*-------------------------------------------------------------------------
 *
 * migrating.c
 *	  A backend-local flag: this backend runs migrate's own work now.
 *
 * The drift capture's event triggers (store/driftlog.c) record the DDL
 * that runs outside migrate.  What runs inside is known to the executor,
 * not guessed from the statement: engine.c sets the flag around the run
 * of a plan (apply(), revert(), dry runs, the apply worker's transactional
 * migrations), worker_run.c around each top-level statement of a
 * non-transactional migration, the commit of a transactional one and the
 * drop of what a failed or killed concurrent build left,
 * rehearse.c around a rehearsal.  It is set exactly where store/lock.c's
 * "migrations running" flag is, and cleared on the same paths; a
 * transaction's abort clears it as well, so that no error path can leave
 * it set and hide the session's later DDL.
 *
 * The flag is per backend: a concurrent session's DDL is drift even while
 * this one applies a migration.
 *
 * IDENTIFICATION
 *	  src/ipc/migrating.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "ipc/migrating.h"

static bool migrating = false;
static bool callback_registered = false;

/*
 * An aborted transaction leaves nothing set (see the header).  Not a
 * commit: CREATE INDEX CONCURRENTLY and the apply worker's statements
 * commit in the middle of migrate's own work.
 */
static void
clear_at_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		migrating = false;
}

void
migrate_migrating_set(bool running)
{
	if (!callback_registered)
	{
		RegisterXactCallback(clear_at_abort, NULL);
		callback_registered = true;
	}
	migrating = running;
}

bool
migrate_migrating_now(void)
{
	return migrating;
}
