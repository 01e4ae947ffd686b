/*-------------------------------------------------------------------------
 *
 * json.c
 *	  Building the JSON documents migrate stores as jsonb, with
 *	  PostgreSQL's jsonb builders.
 *
 * Every JSON document migrate writes (the detail and error of a history
 * row, a migration's last_error, the differences a rehearsal finds) is
 * built here as a JsonbValue with pushJsonbValue() and turned into a Jsonb
 * datum at the end: nothing is built by concatenating strings and parsed
 * back, so no escaping can go wrong, and the stored document is the one
 * built.  jsonb orders an object's keys itself, so the order of the calls
 * does not show in what is stored.
 *
 * Use: a MigrateJsonBuilder starts zeroed; begin the outermost object (or
 * array) with a NULL key, add keys, nest objects and arrays (each with the
 * key it goes under, or a NULL key for an element of an array), end each
 * (migrate_json_end closes the innermost), then migrate_json_finish()
 * returns the Jsonb.  Inside an array every
 * "key" argument must be NULL: the value becomes an element.  Strings are
 * copied as they are added, so the caller's may go away before the end.
 *
 * The error object of a failed statement ("sqlstate", "message", "detail",
 * "hint") is written by one function here, for the engine and the
 * scheduler alike.
 *
 * Pure: no SPI, no catalog.
 *
 * IDENTIFICATION
 *	  src/model/json.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "model/json.h"

/*
 * Push the key a value goes under (inside an object), and say which token
 * the value then is: WJB_VALUE after a key, WJB_ELEM inside an array.
 */
static JsonbIteratorToken
push_key(MigrateJsonBuilder *b, const char *key)
{
	JsonbValue	k;

	if (key == NULL)
		return WJB_ELEM;
	k.type = jbvString;
	k.val.string.len = strlen(key);
	k.val.string.val = pnstrdup(key, k.val.string.len);
	(void) pushJsonbValue(&b->state, WJB_KEY, &k);
	return WJB_VALUE;
}

/* add a scalar under "key" (or as an element when key is NULL) */
static void
push_scalar(MigrateJsonBuilder *b, const char *key, JsonbValue *value)
{
	JsonbIteratorToken token = push_key(b, key);

	(void) pushJsonbValue(&b->state, token, value);
}

/* open an object or array ("token") under "key", or as the outermost */
static void
open_container(MigrateJsonBuilder *b, const char *key, JsonbIteratorToken token)
{
	if (b->state != NULL)
		(void) push_key(b, key);
	(void) pushJsonbValue(&b->state, token, NULL);
}

/*
 * Open an object under "key" (NULL: the outermost object, or an element
 * of the enclosing array).
 */
void
migrate_json_begin_object(MigrateJsonBuilder *b, const char *key)
{
	open_container(b, key, WJB_BEGIN_OBJECT);
}

/* open an array under "key", as migrate_json_begin_object() does an object */
void
migrate_json_begin_array(MigrateJsonBuilder *b, const char *key)
{
	open_container(b, key, WJB_BEGIN_ARRAY);
}

/*
 * Close the innermost object or array; closing the outermost completes the
 * document.
 */
void
migrate_json_end(MigrateJsonBuilder *b)
{
	JsonbIteratorToken token = b->state->contVal.type == jbvObject ?
		WJB_END_OBJECT : WJB_END_ARRAY;

	b->result = pushJsonbValue(&b->state, token, NULL);
}

/* a string, or JSON null when "value" is NULL */
void
migrate_json_add_text(MigrateJsonBuilder *b, const char *key, const char *value)
{
	JsonbValue	v;

	if (value == NULL)
	{
		migrate_json_add_null(b, key);
		return;
	}
	v.type = jbvString;
	v.val.string.len = strlen(value);
	v.val.string.val = pnstrdup(value, v.val.string.len);
	push_scalar(b, key, &v);
}

/* a number (through int8_numeric, which every supported version has) */
void
migrate_json_add_int(MigrateJsonBuilder *b, const char *key, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric,
														Int64GetDatum(value)));
	push_scalar(b, key, &v);
}

void
migrate_json_add_bool(MigrateJsonBuilder *b, const char *key, bool value)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = value;
	push_scalar(b, key, &v);
}

void
migrate_json_add_null(MigrateJsonBuilder *b, const char *key)
{
	JsonbValue	v;

	v.type = jbvNull;
	push_scalar(b, key, &v);
}

/*
 * Replay the tokens of a finished document into the builder; without its
 * outermost braces when "inner_only" (the pairs of an object).
 */
static void
push_document(MigrateJsonBuilder *b, const Jsonb *document, bool inner_only)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	int			depth = 0;

	if (JB_ROOT_IS_SCALAR(document))
		elog(ERROR, "migrate cannot nest a scalar jsonb document");
	it = JsonbIteratorInit((JsonbContainer *) &document->root);
	while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		bool		opens = token == WJB_BEGIN_OBJECT || token == WJB_BEGIN_ARRAY;
		bool		closes = token == WJB_END_OBJECT || token == WJB_END_ARRAY;
		bool		outermost = (opens && depth == 0) || (closes && depth == 1);

		depth += opens ? 1 : closes ? -1 : 0;
		if (inner_only && outermost)
			continue;
		b->result = pushJsonbValue(&b->state, token, opens || closes ? NULL : &v);
	}
}

/* every key of a finished object, added to the object being built */
void
migrate_json_add_fields(MigrateJsonBuilder *b, const Jsonb *object)
{
	if (!JB_ROOT_IS_OBJECT(object))
		elog(ERROR, "migrate can only merge the keys of a jsonb object");
	push_document(b, object, true);
}

/*
 * The keys that describe an error, added to the object being built:
 * "sqlstate" and "message" always, "detail" and "hint" when there are.
 * The one place that writes them, for the engine's failure records and
 * the scheduler's history rows alike.
 */
void
migrate_json_add_error(MigrateJsonBuilder *b, int sqlerrcode, const char *message,
					   const char *detail, const char *hint)
{
	migrate_json_add_text(b, "sqlstate", unpack_sql_state(sqlerrcode));
	migrate_json_add_text(b, "message", message ? message : "");
	if (detail)
		migrate_json_add_text(b, "detail", detail);
	if (hint)
		migrate_json_add_text(b, "hint", hint);
}

/* the document, once its outermost object or array is closed */
Jsonb *
migrate_json_finish(MigrateJsonBuilder *b)
{
	if (b->state != NULL || b->result == NULL)
		elog(ERROR, "migrate closed a jsonb document that is not complete");
	return JsonbValueToJsonb(b->result);
}

/* {"sqlstate": ..., "message": ...}: an error with nothing more to say */
Jsonb *
migrate_json_build_error(int sqlerrcode, const char *message)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&b, NULL);
	migrate_json_add_error(&b, sqlerrcode, message, NULL, NULL);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}
