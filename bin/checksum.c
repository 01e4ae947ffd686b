/*-------------------------------------------------------------------------
 *
 * checksum.c
 *		Script normalisation and SHA-256, as the server computes them.
 *
 * The client compares the checksums of its files with the registered ones
 * to send only what is new or changed, so it must compute exactly what
 * migrate.checksum() computes (src/model/checksum.c, normalisation
 * version 1): a leading UTF-8 byte-order mark is removed, every CR LF
 * pair becomes LF (a lone CR stays), and the result is hashed with
 * SHA-256, written as 64 lowercase hex digits.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include "common/cryptohash.h"
#include "common/sha2.h"

#define UTF8_BOM "\xEF\xBB\xBF"

/* normalisation version 1; the caller frees the result */
static char *
normalise_script(const char *script)
{
	const char *in = script;
	char	   *result;
	char	   *out;

	if (strncmp(in, UTF8_BOM, 3) == 0)
		in += 3;
	result = out = pg_malloc(strlen(in) + 1);
	for (; *in; in++)
	{
		if (in[0] == '\r' && in[1] == '\n')
			continue;
		*out++ = *in;
	}
	*out = '\0';
	return result;
}

/*
 * out receives the checksum of the script as the server computes it;
 * false (and out empty) if SHA-256 could not be computed.  libpgcommon's
 * hex encoder is not installed for frontends, hence the loop.
 */
bool
script_checksum(const char *script, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *normalised = normalise_script(script);
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bool		ok;

	ok = ctx != NULL &&
		pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) normalised,
							 strlen(normalised)) == 0 &&
		pg_cryptohash_final(ctx, digest, sizeof(digest)) == 0;
	pg_cryptohash_free(ctx);
	free(normalised);
	out[0] = '\0';
	if (!ok)
		return false;
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[64] = '\0';
	return true;
}
