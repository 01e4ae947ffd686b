/*-------------------------------------------------------------------------
 *
 * spi.c
 *	  Running migrate's own queries: as the extension owner or as the
 *	  current user, always with search_path pinned to pg_catalog, pg_temp.
 *
 * Every query migrate runs for itself (bookkeeping, the scheduler's
 * reads, the lock holder's description, cleanup's look at pg_index, the
 * status that require() checks) goes through one function here, which
 *
 *  - pins search_path to "pg_catalog, pg_temp" under a GUC nest level of
 *	  its own, so that no function or operator a user put earlier on the
 *	  path can shadow a built-in one (the queries also qualify their
 *	  operators: OPERATOR(pg_catalog.=), because pg_temp comes first for
 *	  operators otherwise found there);
 *  - runs it either as the current user (migrate_spi_run_pinned: the
 *	  scheduler, which is a superuser session, and reads done with the
 *	  caller's own privileges) or as the extension owner
 *	  (migrate_spi_run_as_owner: migrate's tables, on which only the owner
 *	  has privileges), with SetUserIdAndSecContext(SECURITY_LOCAL_USERID_
 *	  CHANGE) around the one SPI call and the caller's identity restored
 *	  right after.  Users' migration SQL never runs inside that window.
 *	  An error inside it is safe: transaction and subtransaction abort
 *	  restore the user id and the settings;
 *  - runs a statement prepared once per backend and kept (SPI_keepplan)
 *	  when the caller passes where to keep it, for the statements apply
 *	  runs for every migration; it is prepared under the same pinned path,
 *	  and the plan cache replans it if the tables change;
 *  - checks the SPI result against the one expected: anything else is an
 *	  internal error.
 *
 * SPI must be connected (migrate_xact_spi_connect, ipc/xact.c).
 *
 * IDENTIFICATION
 *	  src/store/spi.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "store/catalog.h"
#include "store/spi.h"

/* the search_path of every query migrate runs for itself */
#define MIGRATE_PINNED_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Run one query with search_path pinned, as "role" (InvalidOid: the
 * current user); a kept plan when "kept" is given (prepared on first use),
 * otherwise "sql" once with its parameters.
 */
static void
run_pinned(Oid role, SPIPlanPtr *kept, const char *sql, int nargs, Oid *argtypes,
		   Datum *values, const char *nulls, bool read_only, int expected)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	if (OidIsValid(role))
		SetUserIdAndSecContext(role, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", MIGRATE_PINNED_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	if (kept == NULL)
		rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, 0);
	else
	{
		if (*kept == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

			if (plan == NULL || SPI_keepplan(plan) != 0)
				elog(ERROR, "could not prepare \"%s\": %s", sql,
					 SPI_result_code_string(SPI_result));
			*kept = plan;
		}
		rc = SPI_execute_plan(*kept, values, nulls, read_only, 0);
	}

	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	if (rc != expected)
		elog(ERROR, "unexpected SPI result %s for a query of migrate's own",
			 SPI_result_code_string(rc));
}

/*
 * Run a query on migrate's tables as the extension owner, with search_path
 * pinned; "expected" is the SPI result it must give.
 */
void
migrate_spi_run_as_owner(const char *sql, int nargs, Oid *argtypes,
						 Datum *values, const char *nulls, int expected)
{
	run_pinned(migrate_catalog_extension_owner(), NULL, sql, nargs, argtypes, values, nulls,
			   false, expected);
}

/*
 * The same with a plan prepared on first use and kept in *kept for the
 * life of the backend: for the statements run once per migration.
 */
void
migrate_spi_run_kept_as_owner(SPIPlanPtr *kept, const char *sql, int nargs,
							  Oid *argtypes, Datum *values, const char *nulls,
							  int expected)
{
	run_pinned(migrate_catalog_extension_owner(), kept, sql, nargs, argtypes, values, nulls,
			   false, expected);
}

/*
 * Run a query as the current user, with search_path pinned: for a session
 * that is privileged itself (the scheduler) and for reads that must see
 * only what the caller may see.
 */
void
migrate_spi_run_pinned(const char *sql, int nargs, Oid *argtypes, Datum *values,
					   const char *nulls, bool read_only, int expected)
{
	run_pinned(InvalidOid, NULL, sql, nargs, argtypes, values, nulls, read_only, expected);
}
