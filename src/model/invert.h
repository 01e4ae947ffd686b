/*-------------------------------------------------------------------------
 *
 * invert.h
 *	  Down scripts generated from up scripts: each statement's inverse,
 *	  or the reason it has none.
 *
 * IDENTIFICATION
 *	  src/model/invert.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_INVERT_H
#define MIGRATE_INVERT_H

#include "model/catalogfacts.h"
#include "model/parse.h"

typedef struct MigrateInversion
{
	int			statement;		/* of the up script, 1-based */
	int			line;
	const char *command;		/* command tag */
	bool		invertible;
	char	   *down;			/* the inverse statement(s), without the
								 * final semicolon; NULL when not invertible,
								 * or when there is nothing to undo */
	char	   *reason;			/* why not invertible, or why there is
								 * nothing to undo ("nothing to undo: ...");
								 * NULL when down is set */
} MigrateInversion;

/*
 * The inverse of every statement of the up script, in the up script's
 * order (the down script runs them in reverse).  facts supply what the
 * catalog knows now (the comment or default a statement replaces); NULL
 * makes those statements not invertible.
 */
extern List *migrate_invert_script(const MigrateParsedScript *parsed,
								   const MigrateCatalogFacts *facts);

/*
 * The down script of the inversions: inverses in reverse order, each
 * ended by ";\n".  A statement with nothing to undo, or not invertible,
 * appears as a comment line naming the statement and the reason, so the
 * result is still a script a human can finish by hand.
 */
extern char *migrate_invert_down_script(List *inversions);

/* how many of the inversions are not invertible */
extern int	migrate_invert_count_irreversible(List *inversions);

#endif							/* MIGRATE_INVERT_H */
