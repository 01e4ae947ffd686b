/*-------------------------------------------------------------------------
 *
 * xact.h
 *	  Transaction plumbing for any migrate process: SPI connections, a
 *	  worker's unit of work, and subtransactions that hand back the error.
 *
 * IDENTIFICATION
 *	  src/ipc/xact.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_XACT_H
#define MIGRATE_XACT_H

#include "utils/elog.h"
#include "utils/palloc.h"

/* what a unit of work needs besides its transaction (or-ed together) */
typedef enum MigrateWorkFlags
{
	MIGRATE_WORK_PLAIN = 0,		/* a transaction only: catalog lookups */
	MIGRATE_WORK_SNAPSHOT = 1 << 0, /* an active snapshot: parsing, lookups
									 * by name */
	MIGRATE_WORK_SPI = (1 << 1) | MIGRATE_WORK_SNAPSHOT,	/* a snapshot and
															 * SPI: queries */
	MIGRATE_WORK_READ_WRITE = 1 << 2	/* writable even where the database
										 * defaults to read only */
} MigrateWorkFlags;

/* the code migrate_xact_run_subxact() runs in a subtransaction */
typedef void (*MigrateSubxactBody) (void *arg);

/* called on error before the rollback, while the body's memory exists */
typedef void (*MigrateSubxactOnError) (void *arg, ErrorData *edata);

extern void migrate_xact_spi_connect(void);
extern void migrate_xact_spi_connect_ext(int options);
extern void migrate_xact_begin_work(int flags);
extern void migrate_xact_end_work(MemoryContext keep);
extern ErrorData *migrate_xact_abort_work(MemoryContext keep);
extern ErrorData *migrate_xact_run_subxact(MigrateSubxactBody body, void *arg, bool commit,
										   MigrateSubxactOnError on_error);

#endif							/* MIGRATE_XACT_H */
