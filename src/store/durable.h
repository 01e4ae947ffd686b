/*-------------------------------------------------------------------------
 *
 * durable.h
 *	  Recording a failed migration so that the record survives the abort.
 *
 * IDENTIFICATION
 *	  src/store/durable.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DURABLE_H
#define MIGRATE_DURABLE_H

#include "store/catalog.h"

/* the spool of failure records no worker could take, under the data directory */
#define PG_MIGRATE_SPOOL "pg_migrate_spool"

extern void migrate_durable_record_failure(const MigrateEvent *event);
extern List *migrate_durable_spooled_databases(void);
extern void migrate_durable_replay_spool(void);

#endif							/* MIGRATE_DURABLE_H */
