/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Definitions of every migrate.* configuration parameter.
 *
 * They are defined whenever the library is loaded, preloaded or not,
 * because the SQL functions need them in every session.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "compat.h"
#include "guc.h"

/* how long apply/revert/register wait for the migrate lock, in ms */
int			migrate_lock_timeout = 30000;

/* level of the per-migration progress message */
int			migrate_progress_level = NOTICE;

/* the same choices client_min_messages offers, minus the ones above it */
static const struct config_enum_entry progress_level_options[] = {
	{"debug5", DEBUG5, false},
	{"debug4", DEBUG4, false},
	{"debug3", DEBUG3, false},
	{"debug2", DEBUG2, false},
	{"debug1", DEBUG1, false},
	{"debug", DEBUG2, true},
	{"log", LOG, false},
	{"info", INFO, true},
	{"notice", NOTICE, false},
	{"warning", WARNING, false},
	{NULL, 0, false}
};

void
migrate_define_gucs(void)
{
	DefineCustomIntVariable("migrate.lock_timeout",
							gettext_noop("Sets how long to wait for the migrate lock of the database."),
							gettext_noop("0 means fail at once when another session holds it."),
							&migrate_lock_timeout,
							30000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("migrate.progress_level",
							 gettext_noop("Sets the message level of per-migration progress messages."),
							 NULL,
							 &migrate_progress_level,
							 NOTICE,
							 progress_level_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	migrate_reserve_guc_prefix("migrate");
}
