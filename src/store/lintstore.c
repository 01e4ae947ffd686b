/*-------------------------------------------------------------------------
 *
 * lintstore.c
 *	  Storing lint findings and the derived risk at registration.
 *
 * CONTRACT STUB (issue 12): wp12-5 writes it.
 *
 * IDENTIFICATION
 *	  src/store/lintstore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/lintstore.h"

void
migrate_lint_record(const char *version, const char *up, const MigrateHeader *header)
{
}
