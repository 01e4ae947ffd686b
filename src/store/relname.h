/*-------------------------------------------------------------------------
 *
 * relname.h
 *	  Resolve a relation name for lint and analysis without raising.
 *
 * IDENTIFICATION
 *	  src/store/relname.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_STORE_RELNAME_H
#define MIGRATE_STORE_RELNAME_H

#include "nodes/primnodes.h"

extern Oid	migrate_relname_lookup(const RangeVar *relation);

#endif							/* MIGRATE_STORE_RELNAME_H */
