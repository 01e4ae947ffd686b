/*-------------------------------------------------------------------------
 *
 * layout.h
 *		What the file layouts of pg_migrate share: the directory listing,
 *		reading a file, adding a migration, injecting header lines.
 *
 * Every layout (layout_*.c) provides two functions.  "claims" says whether
 * an entry of the directory is one of its files; detection asks every
 * layout about every entry, and a directory whose entries are claimed by
 * two layouts is refused.  The claims are written to be disjoint (a
 * dbmate file is one whose text has a "-- migrate:up" line, a 14-digit
 * prefix is a timestamp and not a number, "__" after the version is the
 * project's own layout and not golang-migrate's).  "read" turns the
 * directory into migrations with layout_add(); layout.c then sorts them in
 * version order, refuses duplicate versions and computes the checksums.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_LAYOUT_H
#define PG_MIGRATE_LAYOUT_H

#include "pg_migrate.h"

#include <limits.h>
#include <sys/stat.h>

#include "pqexpbuffer.h"

/* one entry of the migrations directory (not recursive) */
typedef struct DirEntry
{
	char	   *name;
	bool		is_dir;
	char	   *text;			/* contents, read on demand (files only) */
	bool		used;			/* taken by the layout's reader */
} DirEntry;

typedef struct LayoutContext
{
	const char *dir;
	DirEntry   *entries;		/* sorted by name */
	int			nentries;
	MigrationSet *set;
	char	   *errmsg;			/* set by layout_error() */
	bool		sorted;			/* set->files is in version order */
} LayoutContext;

typedef struct LayoutDef
{
	const char *name;
	bool		(*claims) (LayoutContext *ctx, DirEntry *entry);
	bool		(*read) (LayoutContext *ctx);
} LayoutDef;

extern const LayoutDef layout_numbered;
extern const LayoutDef layout_timestamp;
extern const LayoutDef layout_flyway;
extern const LayoutDef layout_dbmate;
extern const LayoutDef layout_golang;
extern const LayoutDef layout_diesel;
extern const LayoutDef layout_sqitch;
extern const LayoutDef layout_migrate;

/* detection without reading (pg_migrate new): NULL for an empty directory */
extern const LayoutDef *detect_layout(LayoutContext *ctx);
extern const LayoutDef *find_layout(const char *name);
extern bool list_directory(LayoutContext *ctx, const char *dir, bool must_exist);

/* errors: set ctx->errmsg and return false */
extern bool layout_error(LayoutContext *ctx, const char *fmt,...)
			pg_attribute_printf(2, 3);
/* something the layout cannot express: "pg_migrate: warning: ..." */
extern void layout_warning(LayoutContext *ctx, const char *fmt,...)
			pg_attribute_printf(2, 3);

/* file contents, checked to be valid UTF-8; NULL (with ctx->errmsg) on error */
extern char *layout_read_file(LayoutContext *ctx, const char *relpath);
extern char *entry_text(LayoutContext *ctx, DirEntry *entry);
/* the entry's text, handed over to the caller (the entry forgets it) */
extern char *take_entry_text(LayoutContext *ctx, DirEntry *entry);
extern DirEntry *find_entry(LayoutContext *ctx, const char *name);
extern bool path_exists(LayoutContext *ctx, const char *relpath, bool *is_dir);

/* name helpers */
extern bool has_suffix(const char *name, const char *suffix);
extern bool ignored_file(const DirEntry *entry);
extern int	digit_prefix(const char *name);

/* a new migration appended to ctx->set (sorted later) */
extern MigrationFile *layout_add(LayoutContext *ctx, const char *version,
								 const char *name, char *up,
								 const char *up_path);
extern MigrationFile *layout_find(LayoutContext *ctx, const char *version);
/* give the migration of "version" its down script; errors for an orphan */
extern bool attach_down(LayoutContext *ctx, const char *version, char *down,
						const char *down_path);

/*
 * Layouts of one up and one down file per migration, told apart by name
 * (the project's own, golang-migrate, numbered, timestamp, Flyway).  The
 * parser gives a file's role and, for an up or down file, its version and
 * name (malloc'd).  Files of no role that are not ignored_file() are
 * errors, and "expected" says what the layout's files look like.
 */
typedef enum FileRole
{
	FILE_OTHER,
	FILE_UP,
	FILE_DOWN
} FileRole;

/* layout.c: the role of a <stem>.up.sql / <stem>.down.sql file name */
extern FileRole up_down_suffix(const char *filename, size_t *stem);
typedef FileRole (*FileNameParser) (const char *filename, char **version,
									char **name);
extern bool read_named_files(LayoutContext *ctx, const char *layout,
							 FileNameParser parse, const char *expected);
extern bool entry_parses(const DirEntry *entry, FileNameParser parse);

/* numbered and timestamp share their reader (layout_numbered.c) */
extern bool read_prefixed_layout(LayoutContext *ctx, const char *layout);
extern bool prefixed_claims(LayoutContext *ctx, DirEntry *entry,
							bool timestamp);
/* the text has a "-- migrate:up" line (layout_dbmate.c) */
extern bool has_dbmate_marker(const char *text);

/*
 * Prepend "-- @key: value" to *script unless its header already says so;
 * false (and ctx->errmsg) when its header gives the key another value.
 */
extern bool inject_header(LayoutContext *ctx, char **script, const char *path,
						  const char *key, const char *value);

/*
 * cache.c: the inputs of a read, recorded as layout.c touches them (the
 * stat() of each file before it is read, of each directory before it is
 * listed, each path found absent), and the stored reads.
 */
extern void cache_record_start(const char *dir);
extern void cache_record_stat(const char *path, const struct stat *st);
extern void cache_record_absent(const char *path);
extern void cache_record_uncacheable(void);
extern void cache_record_finish(const char *dir, const char *layout, int flags,
								MigrationSet *set, bool success);
extern bool cache_load(const char *dir, const char *layout, int flags,
					   MigrationSet *set);

#endif							/* PG_MIGRATE_LAYOUT_H */
