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
typedef struct LeftoverIndex
{
	char	   *name;			/* schema-qualified, quoted */
	char	   *command;		/* the statement that drops it */
	bool		dropped;		/* we dropped it */
} LeftoverIndex;

extern List *migrate_invalid_indexes_before(const char *sql);
extern List *migrate_leftover_indexes(const char *sql, List *before);
extern void migrate_drop_leftovers(const char *sql, List *leftovers);
extern Jsonb *migrate_leftovers_json(List *leftovers);
extern bool migrate_prepare_resumed_statement(const char *sql);

#endif							/* MIGRATE_CLEANUP_H */
