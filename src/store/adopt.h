/*-------------------------------------------------------------------------
 *
 * adopt.h
 *	  Adopting a database: migrate.baseline() and histories imported
 *	  from other tools (migrate.import_history()).
 *
 * IDENTIFICATION
 *	  src/store/adopt.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ADOPT_H
#define MIGRATE_ADOPT_H

#include "nodes/pg_list.h"

/*
 * register() just stored "version" (new or changed content, not
 * applied): when a baseline covers it, or an imported history says
 * another tool applied it, mark it applied without running it, and say so
 * in history.  SPI is connected and the migrate lock held.  Does nothing
 * on a catalog without the adoption tables.
 */
extern void migrate_adopt_registered(const char *version);

/*
 * The row (tool, tool_version) of migrate.imported_history was just
 * stored: mark the registered migrations it stands for applied (history
 * action "import").  Returns the versions marked, in version order.  SPI
 * is connected and the migrate lock held.
 */
extern List *migrate_adopt_imported(const char *tool, const char *tool_version);

/*
 * What the row (tool, tool_version) of migrate.imported_history stands for
 * among the registered migrations: how many it covers, and how many of
 * those are done (applied or skipped).
 */
extern void migrate_adopt_count_covered(const char *tool, const char *tool_version,
										int *covered, int *done);

#endif							/* MIGRATE_ADOPT_H */
