/*-------------------------------------------------------------------------
 *
 * lockfacts.c
 *	  Lock modes and effects of statements, from the raw parse tree.
 *
 * CONTRACT STUB (issue 12): wp12-3 writes it.
 *
 * IDENTIFICATION
 *	  src/model/lockfacts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lock.h"

#include "model/lockfacts.h"

List *
migrate_lock_facts(Node *stmt, const MigrateCatalogFacts *facts)
{
	return NIL;
}

const char *
migrate_lock_mode_name(LOCKMODE mode)
{
	return GetLockmodeName(DEFAULT_LOCKMETHOD, mode);
}

const char *
migrate_lock_effect_name(MigrateLockEffect effect)
{
	switch (effect)
	{
		case LOCK_EFFECT_NONE:
			return "none";
		case LOCK_EFFECT_CATALOG:
			return "catalog";
		case LOCK_EFFECT_SCAN:
			return "scan";
		case LOCK_EFFECT_BUILD:
			return "build";
		case LOCK_EFFECT_REWRITE:
			return "rewrite";
	}
	return "none";
}

bool
migrate_lock_blocks_writes(LOCKMODE mode)
{
	return mode >= ShareLock;
}
