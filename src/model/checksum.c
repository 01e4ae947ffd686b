/*-------------------------------------------------------------------------
 *
 * checksum.c
 *	  Script normalisation and SHA-256 checksums.
 *
 * Normalisation version 1, applied to every script before it is stored and
 * hashed: a leading UTF-8 byte-order mark is removed and every CR LF pair
 * becomes LF.  So a script saved on Windows and the same script saved on
 * Linux are the same migration, and nothing else about the text is
 * forgiven: any other edit changes the checksum.
 *
 * IDENTIFICATION
 *	  src/model/checksum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "model/checksum.h"
#include "compat.h"
#ifdef MIGRATE_HAVE_CRYPTOHASH
#include "common/cryptohash.h"
#endif

PG_FUNCTION_INFO_V1(migrate_checksum);

#define UTF8_BOM "\xEF\xBB\xBF"

/*
 * Return a palloc'd copy of the script with normalisation version 1
 * applied.
 */
char *
migrate_checksum_normalise(const char *script)
{
	const char *in = script;
	char	   *result;
	char	   *out;

	if (strncmp(in, UTF8_BOM, 3) == 0)
		in += 3;

	result = out = palloc(strlen(in) + 1);
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
 * SHA-256 of an already normalised script, as 64 lowercase hex digits.
 */
char *
migrate_checksum_compute(const char *normalised)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(MIGRATE_CHECKSUM_LEN);
#ifdef MIGRATE_HAVE_CRYPTOHASH
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) normalised, strlen(normalised)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute SHA-256 checksum");
	}
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, (const uint8 *) normalised, strlen(normalised));
	pg_sha256_final(&ctx, digest);
#endif

	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[MIGRATE_CHECKSUM_LEN - 1] = '\0';
	return hex;
}

/* migrate.checksum(script text) returns text */
Datum
migrate_checksum(PG_FUNCTION_ARGS)
{
	char	   *script = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(migrate_checksum_compute(migrate_checksum_normalise(script))));
}
