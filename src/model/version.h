/*-------------------------------------------------------------------------
 *
 * version.h
 *	  Validation and natural ordering of migration versions.
 *
 * IDENTIFICATION
 *	  src/version.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_VERSION_H
#define MIGRATE_VERSION_H

/* longest version accepted, in bytes */
#define MIGRATE_VERSION_MAXLEN 128

extern const char *migrate_version_validate(const char *version);
extern void migrate_version_check(const char *version);
extern bytea *migrate_version_make_key(const char *version);
extern int	migrate_version_compare_keys(const bytea *a, const bytea *b);

#endif							/* MIGRATE_VERSION_H */
