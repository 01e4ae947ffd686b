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

/*
 * Feed the script to the hash as normalisation version 1 has it, one run
 * of bytes between CR LF pairs at a time: a normalised copy would double
 * the memory a large script takes (a 200 MB data migration).
 */
static bool
hash_normalised(pg_cryptohash_ctx *ctx, const char *script)
{
	const char *in = script;
	const char *cr;

	if (strncmp(in, UTF8_BOM, 3) == 0)
		in += 3;
	while ((cr = strstr(in, "\r\n")) != NULL)
	{
		if (pg_cryptohash_update(ctx, (const uint8 *) in, cr - in) != 0)
			return false;
		in = cr + 1;			/* the LF starts the next run */
	}
	return pg_cryptohash_update(ctx, (const uint8 *) in, strlen(in)) == 0;
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
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bool		ok;

	ok = ctx != NULL &&
		pg_cryptohash_init(ctx) == 0 &&
		hash_normalised(ctx, script) &&
		pg_cryptohash_final(ctx, digest, sizeof(digest)) == 0;
	pg_cryptohash_free(ctx);
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
