/*-------------------------------------------------------------------------
 *
 * cache.c
 *		The checksum cache: what reading a migrations directory found
 *		(versions, names, paths, checksums, tags), kept outside the directory
 *		and used again while none of the files it was read from has changed.
 *
 * Reading 10,000 migrations means opening, reading and hashing 20,000
 * files; with nothing to do that is most of what "up", "status" and
 * "validate" cost.  The cache replaces it by one stat() per input.
 *
 * What it keys on.  The cache file of a directory is named after the
 * SHA-256 of a key: the directory's real path, --layout, the read flags and
 * the client's version (the key is also stored in the file and compared).
 * Inside, every input the read depended on is recorded with its stat()
 * fields, taken BEFORE its contents were read: each file read (size, mtime
 * and ctime in nanoseconds, inode, device, file type), each directory
 * listed (its mtime and ctime change when an entry is added, removed or
 * renamed), each symbolic link followed, and each path whose absence was
 * checked.  These are every input a layout reads: all file contents go
 * through layout_read_file() (sqitch.plan, metadata.toml and dbmate
 * sections included, so the header lines a layout injects are covered),
 * all names through list_directory(), all existence checks through
 * path_exists().
 *
 * Why a stale cache cannot hide a change.  A cached read is used only if
 * every recorded input still has the same fields.  Editing a file changes
 * its ctime, which no user can set (touch -d sets mtime only); replacing it
 * changes its inode.  A file changed within the timestamp granularity of
 * the read could keep its fields, so a read whose inputs changed less than
 * CACHE_RACY_SECONDS before it started is not cached at all (git's "racily
 * clean" rule).  A read that warned or failed is not cached either.
 *
 * Why a corrupt cache cannot either.  The file carries a magic word, its
 * format version, its key and a CRC-32C of everything; anything that does
 * not check out (truncated, corrupted, another directory's, another
 * version's) is a miss.  A cache file not owned by the user, or writable by
 * others, is ignored.  Writes go to a temporary file renamed over the old
 * one, so concurrent writers and readers see one whole file or the other.
 * A cache directory that cannot be written just means no cache.
 *
 * A hit gives the MigrationSet without the scripts' text (set->from_cache);
 * a caller that must send scripts reads the directory again
 * (reload_migrations()).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "port/pg_crc32c.h"

#define CACHE_MAGIC			"PGMCACHE"
#define CACHE_FORMAT		1
#define CACHE_RACY_SECONDS	2
#define CACHE_MAX_BYTES		(512 * 1024 * 1024)

typedef enum InputKind
{
	INPUT_PRESENT,				/* stat() succeeded: fields compared */
	INPUT_ABSENT				/* stat() said ENOENT: must stay absent */
} InputKind;

typedef struct CacheInput
{
	char	   *relpath;		/* relative to the directory read; "." itself */
	InputKind	kind;
	int64		size;
	int64		mtime_sec;
	int64		mtime_nsec;
	int64		ctime_sec;
	int64		ctime_nsec;
	int64		ino;
	int64		dev;
	int64		type;			/* st_mode & S_IFMT */
} CacheInput;

/* the inputs of the read in progress */
static struct
{
	bool		active;
	bool		uncacheable;	/* a warning, or an input outside the root */
	char	   *root;			/* the directory as the layouts name it */
	size_t		rootlen;
	struct timespec started;
	CacheInput *inputs;
	int			ninputs;
	int			capacity;
}			rec;

static bool cache_disabled = false;

void
cache_disable(void)
{
	cache_disabled = true;
}

/* --------------------------------------------------------------------
 * Where the cache lives
 * --------------------------------------------------------------------
 */

/*
 * PGMIGRATE_CACHE_DIR, else $XDG_CACHE_HOME/pg_migrate, else
 * ~/.cache/pg_migrate; NULL when none can be named (no home directory).
 */
static char *
cache_directory(void)
{
	const char *env = getenv("PGMIGRATE_CACHE_DIR");
	const char *home;

	if (env != NULL && env[0] != '\0')
		return pg_strdup(env);
	env = getenv("XDG_CACHE_HOME");
	if (env != NULL && env[0] == '/')
		return psprintf("%s/pg_migrate", env);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
	{
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] == '\0')
		return NULL;
	return psprintf("%s/.cache/pg_migrate", home);
}

/* the key of a read, as stored in the file; NULL if the directory is gone */
static char *
cache_key(const char *dir, const char *layout, int flags)
{
	char	   *real = realpath(dir, NULL);
	char	   *key;

	if (real == NULL)
		return NULL;
	key = psprintf("pg_migrate %s\ndir=%s\nlayout=%s\nflags=%d",
				   MIGRATE_VERSION, real, layout ? layout : "", flags);
	free(real);
	return key;
}

static char *
cache_path(const char *key)
{
	static const char hex[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		name[33];
	char	   *dir;
	char	   *path;
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bool		ok;

	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) key, strlen(key)) == 0 &&
		pg_cryptohash_final(ctx, digest, sizeof(digest)) == 0;
	pg_cryptohash_free(ctx);
	dir = cache_directory();
	if (!ok || dir == NULL)
	{
		free(dir);
		return NULL;
	}
	for (int i = 0; i < 16; i++)
	{
		name[2 * i] = hex[digest[i] >> 4];
		name[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	name[32] = '\0';
	path = psprintf("%s/%s.cache", dir, name);
	free(dir);
	return path;
}

/* --------------------------------------------------------------------
 * Recording the inputs of a read (called from layout.c)
 * --------------------------------------------------------------------
 */

void
cache_record_start(const char *dir)
{
	memset(&rec, 0, sizeof(rec));
	rec.active = true;
	rec.root = pg_strdup(dir);
	rec.rootlen = strlen(dir);
	clock_gettime(CLOCK_REALTIME, &rec.started);
}

void
cache_record_uncacheable(void)
{
	if (rec.active)
		rec.uncacheable = true;
}

/* the path relative to the root, or NULL when it is outside it */
static const char *
relative_to_root(const char *path)
{
	if (strcmp(path, rec.root) == 0)
		return ".";
	if (strncmp(path, rec.root, rec.rootlen) == 0 && path[rec.rootlen] == '/')
		return path + rec.rootlen + 1;
	return NULL;
}

static void
fill_input(CacheInput *in, const struct stat *st)
{
	in->kind = INPUT_PRESENT;
	in->size = (int64) st->st_size;
	in->mtime_sec = (int64) st->st_mtim.tv_sec;
	in->mtime_nsec = (int64) st->st_mtim.tv_nsec;
	in->ctime_sec = (int64) st->st_ctim.tv_sec;
	in->ctime_nsec = (int64) st->st_ctim.tv_nsec;
	in->ino = (int64) st->st_ino;
	in->dev = (int64) st->st_dev;
	in->type = (int64) (st->st_mode & S_IFMT);
}

static CacheInput *
new_input(const char *path)
{
	const char *rel;
	CacheInput *in;

	if (!rec.active || rec.uncacheable)
		return NULL;
	rel = relative_to_root(path);
	if (rel == NULL)
	{
		rec.uncacheable = true;
		return NULL;
	}
	if (rec.ninputs == rec.capacity)
	{
		rec.capacity = Max(64, rec.capacity * 2);
		rec.inputs = pg_realloc(rec.inputs, sizeof(CacheInput) * rec.capacity);
	}
	in = &rec.inputs[rec.ninputs++];
	memset(in, 0, sizeof(*in));
	in->relpath = pg_strdup(rel);
	return in;
}

/* "path" had these fields before it was read or listed */
void
cache_record_stat(const char *path, const struct stat *st)
{
	CacheInput *in = new_input(path);

	if (in != NULL)
		fill_input(in, st);
}

/* "path" was looked for and did not exist */
void
cache_record_absent(const char *path)
{
	CacheInput *in = new_input(path);

	if (in != NULL)
		in->kind = INPUT_ABSENT;
}

/* was any input changed so recently that a later change could keep its times? */
static bool
inputs_racy(void)
{
	int64		limit = (int64) rec.started.tv_sec - CACHE_RACY_SECONDS;

	for (int i = 0; i < rec.ninputs; i++)
	{
		const CacheInput *in = &rec.inputs[i];

		if (in->kind == INPUT_PRESENT &&
			(in->mtime_sec >= limit || in->ctime_sec >= limit))
			return true;
	}
	return false;
}

static void
record_reset(void)
{
	for (int i = 0; i < rec.ninputs; i++)
		free(rec.inputs[i].relpath);
	free(rec.inputs);
	free(rec.root);
	memset(&rec, 0, sizeof(rec));
}

/* --------------------------------------------------------------------
 * The file format: native byte order (a machine's own cache), strings as
 * a uint32 length and bytes, a CRC-32C of everything before it at the end
 * --------------------------------------------------------------------
 */

static void
put_u32(PQExpBuffer buf, uint32 v)
{
	appendBinaryPQExpBuffer(buf, (const char *) &v, sizeof(v));
}

static void
put_i64(PQExpBuffer buf, int64 v)
{
	appendBinaryPQExpBuffer(buf, (const char *) &v, sizeof(v));
}

static void
put_str(PQExpBuffer buf, const char *s)
{
	if (s == NULL)
	{
		put_u32(buf, UINT32_MAX);
		return;
	}
	put_u32(buf, (uint32) strlen(s));
	appendBinaryPQExpBuffer(buf, s, strlen(s));
}

/* a 64-digit hex checksum as 32 bytes; "" (none) as 32 zero bytes */
static void
put_checksum(PQExpBuffer buf, const char *hex)
{
	uint8		bin[32] = {0};

	for (int i = 0; hex[0] != '\0' && i < 32; i++)
	{
		char		pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};

		bin[i] = (uint8) strtoul(pair, NULL, 16);
	}
	put_u32(buf, hex[0] != '\0');
	appendBinaryPQExpBuffer(buf, (const char *) bin, sizeof(bin));
}

typedef struct Reader
{
	const char *p;
	const char *end;
	bool		ok;
} Reader;

static bool
get_bytes(Reader *r, void *out, size_t n)
{
	if (!r->ok || (size_t) (r->end - r->p) < n)
		return r->ok = false;
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static uint32
get_u32(Reader *r)
{
	uint32		v = 0;

	get_bytes(r, &v, sizeof(v));
	return v;
}

static int64
get_i64(Reader *r)
{
	int64		v = 0;

	get_bytes(r, &v, sizeof(v));
	return v;
}

/* a malloc'd string, NULL for a stored NULL (or on error: check r->ok) */
static char *
get_str(Reader *r)
{
	uint32		len = get_u32(r);
	char	   *s;

	if (!r->ok || len == UINT32_MAX)
		return NULL;
	if ((size_t) (r->end - r->p) < len || memchr(r->p, '\0', len) != NULL)
	{
		r->ok = false;
		return NULL;
	}
	s = pnstrdup(r->p, len);
	r->p += len;
	return s;
}

static void
get_checksum(Reader *r, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint32		present = get_u32(r);
	uint8		bin[32];

	out[0] = '\0';
	if (!get_bytes(r, bin, sizeof(bin)) || !present)
		return;
	for (int i = 0; i < 32; i++)
	{
		out[2 * i] = hex[bin[i] >> 4];
		out[2 * i + 1] = hex[bin[i] & 0x0f];
	}
	out[64] = '\0';
}

/* --------------------------------------------------------------------
 * Storing a read
 * --------------------------------------------------------------------
 */

static void
serialize(PQExpBuffer buf, const char *key, const MigrationSet *set)
{
	pg_crc32c	crc;

	appendBinaryPQExpBuffer(buf, CACHE_MAGIC, strlen(CACHE_MAGIC));
	put_u32(buf, CACHE_FORMAT);
	put_str(buf, key);
	put_u32(buf, (uint32) rec.ninputs);
	for (int i = 0; i < rec.ninputs; i++)
	{
		const CacheInput *in = &rec.inputs[i];

		put_str(buf, in->relpath);
		put_u32(buf, (uint32) in->kind);
		put_i64(buf, in->size);
		put_i64(buf, in->mtime_sec);
		put_i64(buf, in->mtime_nsec);
		put_i64(buf, in->ctime_sec);
		put_i64(buf, in->ctime_nsec);
		put_i64(buf, in->ino);
		put_i64(buf, in->dev);
		put_i64(buf, in->type);
	}
	put_str(buf, set->snapshot);
	put_str(buf, set->layout);
	put_u32(buf, (uint32) set->nfiles);
	for (int i = 0; i < set->nfiles; i++)
	{
		const MigrationFile *m = &set->files[i];

		put_str(buf, m->version);
		put_str(buf, m->name);
		put_str(buf, m->up_path);
		put_str(buf, m->down_path);
		put_u32(buf, m->repeatable);
		put_checksum(buf, m->checksum);
		put_checksum(buf, m->down_checksum);
		put_checksum(buf, m->verify_checksum);
		put_u32(buf, (uint32) m->ntags);
		for (int t = 0; t < m->ntags; t++)
			put_str(buf, m->tags[t]);
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf->data, buf->len);
	FIN_CRC32C(crc);
	put_u32(buf, crc);
}

/* write data to path atomically: a temporary file renamed over it */
static bool
write_atomically(const char *path, const char *data, size_t len)
{
	char	   *dir = pg_strdup(path);
	char	   *slash = strrchr(dir, '/');
	char	   *tmp = psprintf("%s.tmp.XXXXXX", path);
	int			fd;
	size_t		done = 0;
	bool		ok = true;

	if (slash != NULL)
		*slash = '\0';
	if (pg_mkdir_p(dir, 0700) != 0 && errno != EEXIST)
	{
		out_verbose("checksum cache not written: could not create directory \"%s\": %m", dir);
		free(dir);
		free(tmp);
		return false;
	}
	free(dir);
	fd = mkstemp(tmp);			/* mode 0600 */
	if (fd < 0)
	{
		out_verbose("checksum cache not written: could not create \"%s\": %m", tmp);
		free(tmp);
		return false;
	}
	while (ok && done < len)
	{
		ssize_t		n = write(fd, data + done, len - done);

		if (n <= 0)
			ok = false;
		else
			done += n;
	}
	if (close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok)
	{
		out_verbose("checksum cache not written to \"%s\": %m", path);
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

/*
 * A random name for this read of the directory, stored with it: the
 * records of databases found in sync (below) name the read they were
 * compared with, so a later read of other contents never matches them.
 */
static bool
new_snapshot_id(MigrationSet *set)
{
	static const char hex[] = "0123456789abcdef";
	uint8		bytes[16];
	char		id[33];

	if (!pg_strong_random(bytes, sizeof(bytes)))
		return false;
	for (int i = 0; i < 16; i++)
	{
		id[2 * i] = hex[bytes[i] >> 4];
		id[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	id[32] = '\0';
	set->snapshot = pg_strdup(id);
	return true;
}

/*
 * End the recording of a read; store it if the read succeeded, nothing
 * made it uncacheable, and no input changed too recently to be trusted.
 */
void
cache_record_finish(const char *dir, const char *layout, int flags,
					MigrationSet *set, bool success)
{
	char	   *key = NULL;
	char	   *path = NULL;
	PQExpBufferData buf;

	if (!rec.active)
		return;
	if (!success || rec.uncacheable || cache_disabled)
	{
		record_reset();
		return;
	}
	if (inputs_racy())
	{
		out_verbose("checksum cache not written: files of \"%s\" changed less than %d seconds ago",
					dir, CACHE_RACY_SECONDS);
		record_reset();
		return;
	}
	key = cache_key(dir, layout, flags);
	path = key ? cache_path(key) : NULL;
	if (path != NULL && new_snapshot_id(set))
	{
		initPQExpBuffer(&buf);
		serialize(&buf, key, set);
		if (!PQExpBufferBroken(&buf) &&
			write_atomically(path, buf.data, buf.len))
			out_verbose("checksum cache written: \"%s\" (%d inputs)", path,
						rec.ninputs);
		else
		{
			free(set->snapshot);
			set->snapshot = NULL;
		}
		termPQExpBuffer(&buf);
	}
	free(key);
	free(path);
	record_reset();
}

/* --------------------------------------------------------------------
 * Using a stored read
 * --------------------------------------------------------------------
 */

/* the whole cache file, if it is ours and not writable by others */
static char *
slurp_cache(const char *path, size_t *len)
{
	int			fd = open(path, O_RDONLY | PG_BINARY, 0);
	struct stat st;
	char	   *data;
	size_t		done = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		st.st_size > CACHE_MAX_BYTES || st.st_size < 16)
	{
		close(fd);
		return NULL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
	{
		out_verbose("checksum cache \"%s\" ignored: not owned by this user, or writable by others", path);
		close(fd);
		return NULL;
	}
	data = pg_malloc(st.st_size + 1);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, data + done, st.st_size - done);

		if (n <= 0)
			break;
		done += n;
	}
	close(fd);
	if (done != (size_t) st.st_size)
	{
		free(data);
		return NULL;
	}
	*len = done;
	return data;
}

/* does the input still have the fields it was recorded with? */
static bool
input_unchanged(int dirfd, const CacheInput *in)
{
	struct stat st;
	CacheInput	now;

	if (fstatat(dirfd, in->relpath, &st, 0) != 0)
		return in->kind == INPUT_ABSENT && errno == ENOENT;
	if (in->kind == INPUT_ABSENT)
		return false;
	fill_input(&now, &st);
	return now.size == in->size &&
		now.mtime_sec == in->mtime_sec && now.mtime_nsec == in->mtime_nsec &&
		now.ctime_sec == in->ctime_sec && now.ctime_nsec == in->ctime_nsec &&
		now.ino == in->ino && now.dev == in->dev && now.type == in->type;
}

/* check the inputs as they are read from the file; false at the first change */
static bool
inputs_unchanged(Reader *r, const char *dir)
{
	int			dirfd = open(dir, O_RDONLY | O_DIRECTORY, 0);
	uint32		n = get_u32(r);
	bool		same = r->ok && dirfd >= 0;

	for (uint32 i = 0; same && i < n; i++)
	{
		CacheInput	in;

		in.relpath = get_str(r);
		in.kind = (InputKind) get_u32(r);
		in.size = get_i64(r);
		in.mtime_sec = get_i64(r);
		in.mtime_nsec = get_i64(r);
		in.ctime_sec = get_i64(r);
		in.ctime_nsec = get_i64(r);
		in.ino = get_i64(r);
		in.dev = get_i64(r);
		in.type = get_i64(r);
		same = r->ok && in.relpath != NULL &&
			(in.kind == INPUT_PRESENT || in.kind == INPUT_ABSENT) &&
			input_unchanged(dirfd, &in);
		free(in.relpath);
	}
	if (dirfd >= 0)
		close(dirfd);
	return same && r->ok;
}

static bool
read_files(Reader *r, MigrationSet *set)
{
	uint32		n = get_u32(r);

	if (!r->ok || n > (uint32) ((r->end - r->p) / 16))
		return r->ok = false;
	set->files = pg_malloc0(sizeof(MigrationFile) * Max(n, 1));
	for (uint32 i = 0; i < n && r->ok; i++)
	{
		MigrationFile *m = &set->files[i];
		uint32		ntags;

		set->nfiles = i + 1;
		m->version = get_str(r);
		m->name = get_str(r);
		m->up_path = get_str(r);
		m->down_path = get_str(r);
		m->repeatable = get_u32(r) != 0;
		get_checksum(r, m->checksum);
		get_checksum(r, m->down_checksum);
		get_checksum(r, m->verify_checksum);
		ntags = get_u32(r);
		if (!r->ok || m->version == NULL || m->name == NULL ||
			m->up_path == NULL || m->checksum[0] == '\0' ||
			ntags > (uint32) ((r->end - r->p) / 4))
			return r->ok = false;
		m->tags = pg_malloc0(sizeof(char *) * Max(ntags, 1));
		for (uint32 t = 0; t < ntags && r->ok; t++)
		{
			m->tags[t] = get_str(r);
			m->ntags = t + 1;
			if (m->tags[t] == NULL)
				r->ok = false;
		}
	}
	return r->ok;
}

/*
 * The stored read of "dir" into set, if there is one and every one of its
 * inputs is unchanged; false (set untouched but for set->files, which the
 * caller frees with the set) otherwise.
 */
bool
cache_load(const char *dir, const char *layout, int flags, MigrationSet *set)
{
	char	   *key;
	char	   *path;
	char	   *data = NULL;
	size_t		len = 0;
	Reader		r;
	char		magic[sizeof(CACHE_MAGIC) - 1];
	char	   *stored_key = NULL;
	pg_crc32c	crc;
	uint32		stored_crc;
	bool		hit = false;
	char	   *layout_name;
	const LayoutDef *def;

	if (cache_disabled)
		return false;
	key = cache_key(dir, layout, flags);
	path = key ? cache_path(key) : NULL;
	if (path != NULL)
		data = slurp_cache(path, &len);
	if (data == NULL)
		goto done;

	/* the CRC first: nothing of a damaged file is believed */
	memcpy(&stored_crc, data + len - sizeof(uint32), sizeof(uint32));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, len - sizeof(uint32));
	FIN_CRC32C(crc);
	if (!EQ_CRC32C(crc, stored_crc))
	{
		out_verbose("checksum cache \"%s\" is damaged: reading the directory", path);
		goto done;
	}
	r.p = data;
	r.end = data + len - sizeof(uint32);
	r.ok = true;
	if (!get_bytes(&r, magic, sizeof(magic)) ||
		memcmp(magic, CACHE_MAGIC, sizeof(magic)) != 0 ||
		get_u32(&r) != CACHE_FORMAT)
		goto done;
	stored_key = get_str(&r);
	if (!r.ok || stored_key == NULL || strcmp(stored_key, key) != 0)
		goto done;
	if (!inputs_unchanged(&r, dir))
	{
		out_verbose("checksum cache of \"%s\" is out of date: reading the directory", dir);
		goto done;
	}
	set->snapshot = get_str(&r);
	layout_name = get_str(&r);
	def = layout_name ? find_layout(layout_name) : NULL;
	free(layout_name);
	if (def == NULL || set->snapshot == NULL || !read_files(&r, set) ||
		r.p != r.end)
		goto done;
	set->layout = def->name;
	hit = true;
	out_verbose("checksum cache used: \"%s\" (%d migrations)", path,
				set->nfiles);

done:
	free(stored_key);
	free(data);
	free(path);
	free(key);
	return hit;
}

/* --------------------------------------------------------------------
 * Databases found in sync with a read
 *
 * "up" with nothing to do still fetched every registered migration to
 * compare it with the files, which at 10,000 migrations costs more than
 * the connection.  When a comparison finds the files registered as they
 * are and every migration applied, the client keeps a small record: the
 * read it compared (its snapshot id) and the registry's stamp at that
 * time.  The stamp is computed by the server from its catalog (see
 * sync.c): the database, the server's start time, the extension's
 * version, and over every row of migrate.migration its count and a sum of
 * 64-bit hashes of the row version's (ctid, xmin), which every insert,
 * update or delete changes.  A later run whose read is that same snapshot
 * and whose stamp is equal knows the comparison would find the same.
 * --------------------------------------------------------------------
 */

static char *
sync_path(const MigrationSet *set, const char *target)
{
	char	   *dir_key;
	char	   *key;
	char	   *path;

	if (set->snapshot == NULL)
		return NULL;
	dir_key = cache_key(set->dir, set->layout_option,
						set->read_flags & ~(READ_USE_CACHE | READ_REFRESH_CACHE));
	if (dir_key == NULL)
		return NULL;
	key = psprintf("%s\ntarget=%s", dir_key, target);
	free(dir_key);
	path = cache_path(key);
	free(key);
	if (path == NULL)
		return NULL;
	/* next to the read's own cache file, with another suffix */
	strcpy(path + strlen(path) - strlen(".cache"), ".sync");
	return path;
}

/* "snapshot stamp", as the record holds it */
static char *
sync_record(const MigrationSet *set, const char *stamp)
{
	return psprintf("%s%u\n%s\n%s\n", CACHE_MAGIC, CACHE_FORMAT,
					set->snapshot, stamp);
}

/* was this database found in sync with this very read, at this stamp? */
bool
cache_sync_matches(const MigrationSet *set, const char *target,
				   const char *stamp)
{
	char	   *path;
	char	   *data = NULL;
	char	   *want;
	size_t		len = 0;
	bool		match;

	if (cache_disabled || !set->from_cache || stamp == NULL)
		return false;
	path = sync_path(set, target);
	if (path != NULL)
		data = slurp_cache(path, &len);
	want = sync_record(set, stamp);
	match = data != NULL && len == strlen(want) + sizeof(uint32) &&
		memcmp(data, want, strlen(want)) == 0;
	if (match)
	{
		pg_crc32c	crc;
		uint32		stored;

		INIT_CRC32C(crc);
		COMP_CRC32C(crc, data, len - sizeof(uint32));
		FIN_CRC32C(crc);
		memcpy(&stored, data + len - sizeof(uint32), sizeof(uint32));
		match = EQ_CRC32C(crc, stored);
	}
	free(want);
	free(data);
	free(path);
	return match;
}

void
cache_sync_store(const MigrationSet *set, const char *target,
				 const char *stamp)
{
	char	   *path;
	PQExpBufferData buf;
	char	   *record;
	pg_crc32c	crc;

	if (cache_disabled || set->snapshot == NULL || stamp == NULL)
		return;
	path = sync_path(set, target);
	if (path == NULL)
		return;
	record = sync_record(set, stamp);
	initPQExpBuffer(&buf);
	appendPQExpBufferStr(&buf, record);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf.data, buf.len);
	FIN_CRC32C(crc);
	put_u32(&buf, crc);
	if (!PQExpBufferBroken(&buf) && write_atomically(path, buf.data, buf.len))
		out_verbose("in-sync record written: \"%s\"", path);
	termPQExpBuffer(&buf);
	free(record);
	free(path);
}
