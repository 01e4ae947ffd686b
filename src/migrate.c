/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  Module magic and initialisation of the migrate extension.
 *
 * Loaded on demand, the library gives every SQL function except the
 * scheduler.  Loaded through shared_preload_libraries, it also reserves
 * shared memory (live progress, scheduler slots) and registers the
 * launcher, which starts a scheduler in each database with the extension.
 *
 * IDENTIFICATION
 *	  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "guc.h"
#include "ipc/shmem.h"
#include "bgw/utility.h"
#include "bgw/launcher.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	migrate_define_gucs();

	if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade)
		return;
	migrate_shmem_init();
	migrate_utility_init();
	migrate_register_launcher();
}
