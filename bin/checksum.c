/*-------------------------------------------------------------------------
 *
 * checksum.c
 *		Script normalisation and SHA-256, as the server computes them (stub: wp10-3).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

bool
script_checksum(const char *script, char out[65])
{
	out[0] = '\0';
	return false;
}
