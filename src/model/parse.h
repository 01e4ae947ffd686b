/*-------------------------------------------------------------------------
 *
 * parse.h
 *	  Splitting migration scripts with PostgreSQL's parser.
 *
 * IDENTIFICATION
 *	  src/model/parse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PARSE_H
#define MIGRATE_PARSE_H

#include "nodes/nodes.h"

#include "model/classify.h"

typedef struct MigrateStatement
{
	int			number;			/* 1-based, after any BEGIN/COMMIT wrapper */
	int			start;			/* byte offset of the first token */
	int			end;			/* byte offset just past the statement */
	int			line;			/* 1-based line of the first token */
	MigrateStatementClass classified;	/* kind, transaction block, ... */
	Node	   *parsetree;		/* raw parse tree */
} MigrateStatement;

typedef struct MigrateParsedScript
{
	const char *script;			/* the text that was parsed */
	int			nstatements;
	MigrateStatement *statements;
	/* the first statement that cannot run in a transaction block, if any */
	const MigrateStatement *first_nontransactional;
} MigrateParsedScript;

extern MigrateParsedScript *migrate_parse_script(const char *script, const char *what);
extern char *migrate_parse_statement_text(const MigrateParsedScript *parsed,
										  const MigrateStatement *stmt);
extern int	migrate_parse_line_at(const char *script, int offset);

#endif							/* MIGRATE_PARSE_H */
