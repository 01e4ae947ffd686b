/*-------------------------------------------------------------------------
 *
 * dynworker.h
 *	  Starting migrate's dynamic background workers.
 *
 * IDENTIFICATION
 *	  src/ipc/dynworker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DYNWORKER_H
#define MIGRATE_DYNWORKER_H

#include "postmaster/bgworker.h"

/*
 * Background worker slots migrate needs besides its schedulers: the
 * launcher, an apply worker, a failure recorder, and PostgreSQL's own
 * logical replication launcher, which takes one by default.
 */
#define MIGRATE_WORKERS_BESIDES_SCHEDULERS 4

/* how long apply() waits for a free slot for its worker, in ms */
#define APPLY_WORKER_SLOT_WAIT_MS (5 * 1000)

extern void *migrate_dynworker_attach(Datum main_arg, const char *what);
extern BackgroundWorkerHandle *migrate_dynworker_start(const char *function, const char *type,
													   const char *name, Datum arg);
extern BackgroundWorkerHandle *migrate_dynworker_start_waiting(const char *function,
															   const char *type,
															   const char *name, Datum arg,
															   int wait_ms);
extern char *migrate_dynworker_describe_slots(void);
extern void migrate_dynworker_begin_round(MemoryContext loop_context);

#endif							/* MIGRATE_DYNWORKER_H */
