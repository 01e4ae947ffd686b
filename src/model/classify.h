/*-------------------------------------------------------------------------
 *
 * classify.h
 *	  The one statement classifier: what a parsed statement is and how it
 *	  must be run.
 *
 * IDENTIFICATION
 *	  src/model/classify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CLASSIFY_H
#define MIGRATE_CLASSIFY_H

#include "nodes/parsenodes.h"

/* which concurrent index operation a statement is, if any */
typedef enum MigrateConcurrentIndex
{
	MIGRATE_CONCURRENT_NONE = 0,
	MIGRATE_CONCURRENT_CREATE,	/* CREATE INDEX CONCURRENTLY */
	MIGRATE_CONCURRENT_REINDEX, /* REINDEX ... CONCURRENTLY */
	MIGRATE_CONCURRENT_DROP		/* DROP INDEX CONCURRENTLY */
} MigrateConcurrentIndex;

/* what the classifier says about one raw statement */
typedef struct MigrateStatementClass
{
	const char *command;		/* command tag, e.g. "CREATE INDEX" */
	bool		transactional;	/* may run inside a transaction block */
	const char *nontransactional_reason;	/* why not, or NULL */
	MigrateConcurrentIndex concurrent_index;
	/*
	 * The relation a concurrent index operation works on: the table of
	 * CREATE INDEX CONCURRENTLY, the table or index REINDEX names
	 * (relation_is_index tells which; NULL for REINDEX SCHEMA and the
	 * like), the index DROP INDEX CONCURRENTLY drops (NULL when its name
	 * has more than three parts: the server reports that when it runs).
	 * NULL otherwise.
	 */
	RangeVar   *relation;
	bool		relation_is_index;
	bool		changes_schema; /* DDL, as log_statement = 'ddl' counts it */
} MigrateStatementClass;

extern DefElem *migrate_classify_find_option(List *options, const char *name);
extern void migrate_classify_statement(Node *parsetree, MigrateStatementClass *result);
extern Node *migrate_classify_transactional_form(Node *parsetree);

#endif							/* MIGRATE_CLASSIFY_H */
