/*-------------------------------------------------------------------------
 *
 * topstatement.h
 *	  Which statement of the client's query string runs now (issue 13:
 *	  the drift capture records that statement's text and nothing else).
 *
 * IDENTIFICATION
 *	  src/ipc/topstatement.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_TOPSTATEMENT_H
#define MIGRATE_TOPSTATEMENT_H

/* what the backend runs now, as far as DDL is concerned */
typedef enum MigrateTopStatement
{
	MIGRATE_TOP_UNKNOWN,		/* the hook was not there when it began, or
								 * PostgreSQL gave no location */
	MIGRATE_TOP_NONE,			/* no utility statement at top level (SELECT f()) */
	MIGRATE_TOP_STATEMENT,		/* a top-level utility statement: its text is known */
	MIGRATE_TOP_NESTED			/* a utility statement run by a function or DO block */
} MigrateTopStatement;

extern void migrate_topstatement_init(void);
extern MigrateTopStatement migrate_topstatement_current(char **text);

#endif							/* MIGRATE_TOPSTATEMENT_H */
