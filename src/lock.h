/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The per-database migrate lock.
 *
 * IDENTIFICATION
 *	  src/lock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LOCK_H
#define MIGRATE_LOCK_H

/*
 * Advisory lock key space reserved for migrate: the two-int4 form, seen in
 * pg_locks as locktype 'advisory', classid MIGRATE_LOCK_CLASSID, objid
 * MIGRATE_LOCK_OBJID, objsubid 2 -- that is,
 * pg_advisory_xact_lock(1835624306, 1).  The class id spells "migr".
 */
#define MIGRATE_LOCK_CLASSID 1835624306
#define MIGRATE_LOCK_OBJID	 1

extern void migrate_lock_acquire(void);
extern void migrate_set_running(bool running);
extern bool migrate_lock_session_try(void);
extern void migrate_lock_session_release(void);

#endif							/* MIGRATE_LOCK_H */
