/*-------------------------------------------------------------------------
 *
 * checksum.h
 *	  Script normalisation and SHA-256 checksums.
 *
 * IDENTIFICATION
 *	  src/model/checksum.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CHECKSUM_H
#define MIGRATE_CHECKSUM_H

/*
 * Version of the normalisation applied before hashing, stored beside every
 * checksum.  Bump it (and keep the old code path) if the normalisation ever
 * changes, so stored checksums remain comparable without a mass repair.
 */
#define MIGRATE_CHECKSUM_VERSION 1

/* 64 hex digits and a terminating zero */
#define MIGRATE_CHECKSUM_LEN 65

extern char *migrate_checksum_normalise(const char *script);
extern char *migrate_checksum_compute(const char *normalised);

#endif							/* MIGRATE_CHECKSUM_H */
