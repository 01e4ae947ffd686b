/*-------------------------------------------------------------------------
 *
 * order.h
 *	  Dependency ordering of migrations.
 *
 * IDENTIFICATION
 *	  src/model/order.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ORDER_H
#define MIGRATE_ORDER_H

#include "model/migration.h"

extern List *migrate_order_dependencies_first(MigrateMigration *registry, int count,
											  List **deps, const bool *done);

#endif							/* MIGRATE_ORDER_H */
