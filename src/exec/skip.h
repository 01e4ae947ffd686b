/*-------------------------------------------------------------------------
 *
 * skip.h
 *	  Migrations meant for other environments (@environments): recorded as
 *	  skipped in order, so that history is the same in every environment.
 *
 * IDENTIFICATION
 *	  src/exec/skip.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SKIP_H
#define MIGRATE_SKIP_H

#include "exec/engine.h"

/*
 * Called by the engine for the current migration of a run, before its
 * precondition (up only).  When its @environments leave out the current
 * environment, records it as skipped (state "skipped" where the catalog
 * accepts it, a history row with outcome "skipped"), fills in the outcome
 * and returns true: the engine then runs nothing of it.
 */
extern bool migrate_skip_for_environment(MigrateRunState *state, MigrateOutcome *outcome);

/*
 * The note of a skipped outcome copied back from the apply worker, whose
 * own note pointed into the worker's memory: why it was skipped.
 */
extern const char *migrate_skip_note(const MigrateOutcome *outcome);

#endif							/* MIGRATE_SKIP_H */
