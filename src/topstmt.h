/*-------------------------------------------------------------------------
 *
 * topstmt.h
 *	  Running a statement at top level, as a client's simple query would.
 *
 * IDENTIFICATION
 *	  src/topstmt.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_TOPSTMT_H
#define MIGRATE_TOPSTMT_H

extern void migrate_exec_toplevel(const char *sql);

#endif							/* MIGRATE_TOPSTMT_H */
