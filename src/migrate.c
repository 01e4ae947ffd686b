/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  Module magic and initialisation of the migrate extension.
 *
 * IDENTIFICATION
 *	  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Called when the library is loaded, by the first call of any migrate
 * function in a session or by the failure-recording worker.
 */
void
_PG_init(void)
{
	migrate_define_gucs();
}
