/*-------------------------------------------------------------------------
 *
 * launcher.h
 *	  The launcher and the per-database schedulers.
 *
 * IDENTIFICATION
 *	  src/bgw/launcher.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LAUNCHER_H
#define MIGRATE_LAUNCHER_H

extern void migrate_launcher_register(void);

#endif							/* MIGRATE_LAUNCHER_H */
