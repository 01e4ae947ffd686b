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

/*
 * register() just stored "version" (new or changed content, not
 * applied): when a baseline covers it, or an imported history says
 * another tool applied it, mark it applied without running it, and say so
 * in history.  SPI is connected and the migrate lock held.  Does nothing
 * on a catalog without the adoption tables.
 */
extern void migrate_adopt_registered(const char *version);

#endif							/* MIGRATE_ADOPT_H */
