/*-------------------------------------------------------------------------
 *
 * durable.h
 *	  Recording a failed migration so that the record survives the abort.
 *
 * IDENTIFICATION
 *	  src/durable.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DURABLE_H
#define MIGRATE_DURABLE_H

#include "catalog.h"

extern void migrate_record_failure(const MigrationEvent *event);

#endif							/* MIGRATE_DURABLE_H */
