/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The per-database migrate lock.
 *
 * IDENTIFICATION
 *	  src/store/lock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LOCK_H
#define MIGRATE_LOCK_H

/*
 * The lock tags, object locks on extension migrate itself (see lock.c):
 * (database, pg_extension, oid of extension migrate, objsubid).  Core
 * commands lock an extension with objsubid 0.
 */
#define MIGRATE_LOCK_OBJSUBID	1	/* the migrate lock */
#define MIGRATE_RUN_OBJSUBID	2	/* a run executes statements outside a
									 * transaction */

extern void migrate_lock_acquire(void);
extern void migrate_lock_acquire_without_snapshot(int timeout_ms, const char *limit);
extern void migrate_lock_set_running(bool running);
extern bool migrate_lock_session_try(void);
extern void migrate_lock_session_release(void);
extern void migrate_lock_nontransactional_begin(void);
extern void migrate_lock_nontransactional_end(void);

#endif							/* MIGRATE_LOCK_H */
