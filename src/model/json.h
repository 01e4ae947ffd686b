/*-------------------------------------------------------------------------
 *
 * json.h
 *	  Building the JSON documents migrate stores (event details, errors,
 *	  rehearsal differences) as jsonb, with PostgreSQL's jsonb builders.
 *
 * IDENTIFICATION
 *	  src/model/json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_JSON_H
#define MIGRATE_JSON_H

#include "utils/jsonb.h"

/* a jsonb document being built; zero it (or use MIGRATE_JSON_BUILDER) first */
typedef struct MigrateJsonBuilder
{
	JsonbParseState *state;		/* the containers still open */
	JsonbValue *result;			/* the document, once the outermost closes */
} MigrateJsonBuilder;

#define MIGRATE_JSON_BUILDER {NULL, NULL}

extern void migrate_json_begin_object(MigrateJsonBuilder *b, const char *key);
extern void migrate_json_begin_array(MigrateJsonBuilder *b, const char *key);
extern void migrate_json_end(MigrateJsonBuilder *b);
extern void migrate_json_add_text(MigrateJsonBuilder *b, const char *key, const char *value);
extern void migrate_json_add_int(MigrateJsonBuilder *b, const char *key, int64 value);
extern void migrate_json_add_bool(MigrateJsonBuilder *b, const char *key, bool value);
extern void migrate_json_add_null(MigrateJsonBuilder *b, const char *key);
extern void migrate_json_add_fields(MigrateJsonBuilder *b, const Jsonb *object);
extern void migrate_json_add_error(MigrateJsonBuilder *b, int sqlerrcode,
								   const char *message, const char *detail,
								   const char *hint);
extern Jsonb *migrate_json_finish(MigrateJsonBuilder *b);
extern Jsonb *migrate_json_build_error(int sqlerrcode, const char *message);

#endif							/* MIGRATE_JSON_H */
