/*-------------------------------------------------------------------------
 *
 * lintstore.h
 *	  Lint findings and derived risk stored at registration.
 *
 * IDENTIFICATION
 *	  src/store/lintstore.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LINTSTORE_H
#define MIGRATE_LINTSTORE_H

#include "model/header.h"
#include "model/parse.h"

/*
 * Lint the (normalised) up script of a migration register() just stored,
 * and replace its stored findings and derived risk.  SPI is connected and
 * the migrate lock held.  Does nothing on a catalog without the tables.
 */
extern void migrate_lint_record(const char *version, const char *up,
								const MigrateHeader *header);


#endif							/* MIGRATE_LINTSTORE_H */
