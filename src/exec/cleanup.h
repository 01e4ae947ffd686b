/*-------------------------------------------------------------------------
 *
 * cleanup.h
 *	  What a failed CREATE INDEX / REINDEX CONCURRENTLY leaves behind.
 *
 * IDENTIFICATION
 *	  src/exec/cleanup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CLEANUP_H
#define MIGRATE_CLEANUP_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* an INVALID index left by a failed statement */
typedef struct MigrateLeftoverIndex
{
	char	   *name;			/* schema-qualified, quoted */
	char	   *command;		/* the statement that drops it */
	bool		dropped;		/* we dropped it */
} MigrateLeftoverIndex;

extern List *migrate_cleanup_invalid_indexes(const char *sql);
extern List *migrate_cleanup_find_leftovers(const char *sql, List *before);
extern void migrate_cleanup_drop_leftovers(const char *sql, List *leftovers);
extern Jsonb *migrate_cleanup_leftovers_json(List *leftovers);
extern bool migrate_cleanup_prepare_resume(const char *sql);

#endif							/* MIGRATE_CLEANUP_H */
