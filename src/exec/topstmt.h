/*-------------------------------------------------------------------------
 *
 * topstmt.h
 *	  Running a statement at top level, as a client's simple query would.
 *
 * IDENTIFICATION
 *	  src/exec/topstmt.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_TOPSTMT_H
#define MIGRATE_TOPSTMT_H

#include "nodes/parsenodes.h"

extern void migrate_topstmt_exec_raw(RawStmt *parsetree, const char *sql, bool top_level);
extern void migrate_topstmt_exec(const char *sql);

#endif							/* MIGRATE_TOPSTMT_H */
