/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  Module magic and initialisation of the migrate extension.
 *
 * Loaded on demand, the library gives every SQL function except the
 * scheduler.  Loaded through shared_preload_libraries, it also reserves
 * shared memory (live progress, scheduler slots) and registers the
 * launcher, which starts a scheduler in each database with the extension.
 * migrate.version() lives here too: it describes the module, not a layer.
 *
 * IDENTIFICATION
 *	  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "guc.h"
#include "ipc/shmem.h"
#include "ipc/topstatement.h"
#include "bgw/utility.h"
#include "bgw/launcher.h"

PG_MODULE_MAGIC;

/* the Makefile passes default_version of migrate.control */
#ifndef MIGRATE_VERSION
#error "MIGRATE_VERSION must be defined (see the Makefile)"
#endif

void		_PG_init(void);

PG_FUNCTION_INFO_V1(migrate_version);

void
_PG_init(void)
{
	migrate_guc_define_all();
	/* the drift capture's statement text: whenever the library is loaded */
	if (!IsBinaryUpgrade)
		migrate_topstatement_init();

	if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade)
		return;
	migrate_shmem_init();
	migrate_utility_init();
	migrate_launcher_register();
}

/*
 * migrate.version(): the version of the extension this library was built
 * for (default_version of migrate.control, compiled in).  After an upgrade
 * of the library it tells whether ALTER EXTENSION migrate UPDATE is still
 * due: it then differs from pg_extension.extversion.
 */
Datum
migrate_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(MIGRATE_VERSION));
}
