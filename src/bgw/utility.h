/*-------------------------------------------------------------------------
 *
 * utility.h
 *	  Getting the scheduler out of the way of database-level commands.
 *
 * IDENTIFICATION
 *	  src/bgw/utility.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_UTILITY_H
#define MIGRATE_UTILITY_H

extern void migrate_utility_init(void);

#endif							/* MIGRATE_UTILITY_H */
