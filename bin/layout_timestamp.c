/*-------------------------------------------------------------------------
 *
 * layout_timestamp.c
 *		Timestamped files: YYYYMMDDHHMMSS_description.sql, reverted by
 *		YYYYMMDDHHMMSS_description_rollback.sql.
 *
 * The same files as the numbered layout with a 14-digit version, read by
 * the same code (layout_numbered.c); rollback/ works here too.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

static bool
timestamp_claims(LayoutContext *ctx, DirEntry *entry)
{
	return prefixed_claims(ctx, entry, true);
}

static bool
timestamp_read(LayoutContext *ctx)
{
	return read_prefixed_layout(ctx, "timestamp");
}

const LayoutDef layout_timestamp = {"timestamp", timestamp_claims, timestamp_read};
