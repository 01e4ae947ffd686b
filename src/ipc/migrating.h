/*-------------------------------------------------------------------------
 *
 * migrating.h
 *	  Whether this backend is running migrate's own work (migration
 *	  scripts, their checks and backups) right now: the DDL it runs then is
 *	  migrate's, not drift (issue 13).
 *
 * IDENTIFICATION
 *	  src/ipc/migrating.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_MIGRATING_H
#define MIGRATE_MIGRATING_H

extern void migrate_migrating_set(bool running);
extern bool migrate_migrating_now(void);

#endif							/* MIGRATE_MIGRATING_H */
