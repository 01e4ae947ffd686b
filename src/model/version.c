/*-------------------------------------------------------------------------
 *
 * version.c
 *	  Validation and natural ordering of migration versions.
 *
 * Versions are text such as '001', '20250528120000' or '1.2.3'.  They are
 * ordered naturally: runs of digits compare as numbers, so '2' < '10' and
 * '1.9' < '1.10'.  Rather than a comparison function we build a sort key
 * whose bytewise order is the natural order.  The same key orders
 * migrations in C (memcmp), in the views (ORDER BY a bytea column) and
 * detects duplicates ('1' and '001' have the same key, so they are the
 * same version, enforced by a unique index).
 *
 * Key layout: a run of digits becomes 0x01, the number of its significant
 * digits (one byte), then those digits; any other character is copied.
 * Allowed characters are all above 0x01, and the run length sits only
 * right after a marker, so two keys stay aligned while they are equal and
 * a number sorts before any other character at the same place.
 *
 * IDENTIFICATION
 *	  src/model/version.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "model/version.h"

#define DIGIT_RUN_MARKER 0x01

PG_FUNCTION_INFO_V1(migrate_version_key);
PG_FUNCTION_INFO_V1(migrate_version_cmp);

static bool
is_version_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
}

/*
 * Why a string is not a usable version (1 to 128 characters from
 * [A-Za-z0-9._-], starting with a letter or digit), as a sentence; NULL
 * when it is one.  The one validator of versions: register() and the
 * header's @dependencies both use it.
 */
const char *
migrate_version_validate(const char *version)
{
	size_t		len = strlen(version);

	if (len == 0 || len > MIGRATE_VERSION_MAXLEN)
		return psprintf("A version must have between 1 and %d characters.",
						MIGRATE_VERSION_MAXLEN);
	for (const char *p = version; *p; p++)
	{
		if (!is_version_char(*p) || (p == version && !isalnum((unsigned char) *p)))
			return "A version may contain only letters, digits, \".\", \"_\" and \"-\", and must start with a letter or digit.";
	}
	return NULL;
}

/*
 * Raise an error unless the string is a usable version.
 */
void
migrate_version_check(const char *version)
{
	const char *problem = migrate_version_validate(version);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration version \"%s\"", version),
				 errdetail("%s", problem)));
}

/*
 * Build the natural-order sort key of a version (validating it first).
 */
bytea *
migrate_version_make_key(const char *version)
{
	size_t		len;
	bytea	   *key;
	char	   *out;
	const char *p;

	migrate_version_check(version);
	len = strlen(version);

	/* a run of one digit grows by two bytes at most: 2x is a safe bound */
	key = (bytea *) palloc(VARHDRSZ + 2 * len + 2);
	out = VARDATA(key);

	for (p = version; *p;)
	{
		if (isdigit((unsigned char) *p))
		{
			const char *run = p;
			int			ndigits;

			while (*run == '0')
				run++;
			p = run;
			while (isdigit((unsigned char) *p))
				p++;
			ndigits = p - run;
			*out++ = DIGIT_RUN_MARKER;
			*out++ = (char) ndigits;
			memcpy(out, run, ndigits);
			out += ndigits;
		}
		else
			*out++ = *p++;
	}
	SET_VARSIZE(key, out - (char *) key);
	return key;
}

/* bytewise comparison of two keys; a key that is a prefix sorts first */
int
migrate_version_compare_keys(const bytea *a, const bytea *b)
{
	int			la = VARSIZE_ANY_EXHDR(a);
	int			lb = VARSIZE_ANY_EXHDR(b);
	int			cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));

	if (cmp != 0)
		return cmp < 0 ? -1 : 1;
	return (la > lb) - (la < lb);
}

/* migrate.version_key(text) returns bytea */
Datum
migrate_version_key(PG_FUNCTION_ARGS)
{
	char	   *version = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BYTEA_P(migrate_version_make_key(version));
}

/* migrate.version_cmp(a text, b text) returns -1, 0 or 1 */
Datum
migrate_version_cmp(PG_FUNCTION_ARGS)
{
	bytea	   *a = migrate_version_make_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	bytea	   *b = migrate_version_make_key(text_to_cstring(PG_GETARG_TEXT_PP(1)));

	PG_RETURN_INT32(migrate_version_compare_keys(a, b));
}
