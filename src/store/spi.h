/*-------------------------------------------------------------------------
 *
 * spi.h
 *	  Running migrate's own queries: as the extension owner or as the
 *	  current user, always with search_path pinned to pg_catalog, pg_temp.
 *
 * IDENTIFICATION
 *	  src/store/spi.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SPI_H
#define MIGRATE_SPI_H

#include "executor/spi.h"

extern void migrate_spi_run_as_owner(const char *sql, int nargs, Oid *argtypes,
									 Datum *values, const char *nulls, int expected);
extern void migrate_spi_run_kept_as_owner(SPIPlanPtr *kept, const char *sql, int nargs,
										  Oid *argtypes, Datum *values, const char *nulls,
										  int expected);
extern void migrate_spi_run_pinned(const char *sql, int nargs, Oid *argtypes,
								   Datum *values, const char *nulls, bool read_only,
								   int expected);

#endif							/* MIGRATE_SPI_H */
