/*-------------------------------------------------------------------------
 *
 * header.h
 *	  The metadata header at the top of a migration's up script.
 *
 * IDENTIFICATION
 *	  src/model/header.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_HEADER_H
#define MIGRATE_HEADER_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/date.h"
#include "utils/jsonb.h"

/* a tri-state for optional booleans */
typedef enum MigrateHeaderBool
{
	HEADER_UNSET = -1,
	HEADER_FALSE = 0,
	HEADER_TRUE = 1
} MigrateHeaderBool;

typedef struct MigrateHeader
{
	char	   *description;	/* NULL when absent */
	char	   *author;
	bool		has_created;
	DateADT		created;
	List	   *dependencies;	/* of char *, versions */
	char	   *risk_level;		/* "low", "medium", "high" or NULL */
	MigrateHeaderBool	zero_downtime;
	Interval   *estimated_duration; /* NULL when absent */
	List	   *environments;	/* of char * */
	MigrateHeaderBool	transactional;
	MigrateHeaderBool	repeatable;	/* Flyway's R__: re-run when its content changes */
	int			lock_timeout_ms;	/* @lock-timeout; 0: none; -1: not given */
	int			statement_timeout_ms;	/* @statement-timeout; likewise */
	MigrateHeaderBool	idempotent;	/* @idempotent: every statement may run twice */
	List	   *lint_ignore;	/* @lint-ignore values, as written (lint.c splits them) */
} MigrateHeader;

/* the two timeouts of a script's header, -1 where it gives none */
typedef struct MigrateHeaderTimeouts
{
	int			lock_timeout_ms;
	int			statement_timeout_ms;
} MigrateHeaderTimeouts;

extern MigrateHeader *migrate_header_parse(const char *script);
extern MigrateHeaderTimeouts migrate_header_timeouts(const char *script);

#endif							/* MIGRATE_HEADER_H */
