/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The launcher and the per-database schedulers.
 *
 * IDENTIFICATION
 *	  src/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_WORKER_H
#define MIGRATE_WORKER_H

extern void migrate_register_launcher(void);
extern void migrate_request_wakeup(void);

#endif							/* MIGRATE_WORKER_H */
