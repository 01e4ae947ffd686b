/*-------------------------------------------------------------------------
 *
 * noparallel.h
 *	  No parallel workers in a process that is a member of another's lock
 *	  group.
 *
 * IDENTIFICATION
 *	  src/exec/noparallel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_NOPARALLEL_H
#define MIGRATE_NOPARALLEL_H

extern void migrate_noparallel_forbid(void);

#endif							/* MIGRATE_NOPARALLEL_H */
