/*-------------------------------------------------------------------------
 *
 * gendown.h
 *	  Generated down scripts: register(..., generate_down => true).
 *
 * IDENTIFICATION
 *	  src/store/gendown.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_GENDOWN_H
#define MIGRATE_GENDOWN_H

/*
 * The down script generated from a migration's (normalised) up script,
 * with the catalog's current comments and defaults; ERROR MG018 listing
 * every statement that cannot be inverted.
 */
extern char *migrate_gendown_for_register(const char *version, const char *up);

/*
 * Record whether the stored down script of "version" was generated
 * (migrate.migration.down_generated).  SPI is connected.
 */
extern void migrate_gendown_mark(const char *version, bool generated);

#endif							/* MIGRATE_GENDOWN_H */
