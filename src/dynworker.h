/*-------------------------------------------------------------------------
 *
 * dynworker.h
 *	  Starting migrate's dynamic background workers.
 *
 * IDENTIFICATION
 *	  src/dynworker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DYNWORKER_H
#define MIGRATE_DYNWORKER_H

#include "postmaster/bgworker.h"

extern void *migrate_worker_attach(Datum main_arg, const char *what);
extern BackgroundWorkerHandle *migrate_start_worker(const char *function, const char *type,
													const char *name, Datum arg);

#endif							/* MIGRATE_DYNWORKER_H */
