/*-------------------------------------------------------------------------
 *
 * driftlog.h
 *	  Drift capture (issue 13): the event triggers that record DDL run
 *	  outside migrate in migrate.drift_log, and the record of the schema as
 *	  migrate left it (migrate.schema_state) that migrate.drift compares
 *	  with.
 *
 * IDENTIFICATION
 *	  src/store/driftlog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DRIFTLOG_H
#define MIGRATE_DRIFTLOG_H

/*
 * Before a run: the objects (jsonb text) of a schema that drifted from the
 * last record, or NULL (no drift, nothing recorded, or a 1.0 catalog).
 */
extern char *migrate_driftlog_state_before(void);

/*
 * Record the schema ("apply", "revert", "acknowledge", "baseline"); with
 * "before" (from migrate_driftlog_state_before()), keep the drift that
 * existed before the run.  Does nothing on a catalog without
 * migrate.schema_state (1.0).
 */
extern void migrate_driftlog_record_state(const char *reason, const char *before);

/*
 * How many objects differ from the schema recorded last (0: none, or
 * nothing recorded, or a 1.0 catalog); *first gets the first few, as
 * "added table public.t, ...".
 */
extern int	migrate_driftlog_differences(char **first);

#endif							/* MIGRATE_DRIFTLOG_H */
