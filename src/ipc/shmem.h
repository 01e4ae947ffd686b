/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  Shared memory of migrate: the launcher, per-database schedulers and
 *	  live progress of every migration being applied or reverted.
 *
 * IDENTIFICATION
 *	  src/ipc/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SHMEM_H
#define MIGRATE_SHMEM_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "model/version.h"

#define MIGRATE_PROGRESS_TEXT_LEN 256
#define MIGRATE_PROGRESS_NAME_LEN 128

/* what one backend or worker is doing, while it applies or reverts */
typedef struct MigrateProgress
{
	pid_t		pid;			/* 0 when the slot is free */
	Oid			database;
	Oid			role;
	char		action[8];		/* "apply" or "revert" */
	char		version[MIGRATE_VERSION_MAXLEN + 1];
	char		name[MIGRATE_PROGRESS_NAME_LEN];
	char		schedule[NAMEDATALEN];	/* empty unless a scheduled run */
	int			migration;		/* k of ... */
	int			migrations;		/* ... n in this run */
	int			statement;		/* k of ... (0 before the first) */
	int			statements;		/* ... n in this migration */
	char		statement_text[MIGRATE_PROGRESS_TEXT_LEN];
	TimestampTz migration_started;
	TimestampTz statement_started;
	int			retries;		/* earlier failed attempts of this migration */
} MigrateProgress;

/* a per-database scheduler, as the launcher started it */
typedef struct MigrateSchedulerSlot
{
	Oid			database;		/* InvalidOid when free */
	pid_t		pid;			/* 0 until the worker has started */
	TimestampTz started_at;
	bool		active;			/* it found an enabled schedule: no probe */
	bool		idle;			/* it exited: no extension or no schedule */
	uint64		generation;		/* wake_generation when it checked */
	TimestampTz hold_until;		/* do not start one before (DROP DATABASE) */
} MigrateSchedulerSlot;

/* how many databases may ask for a scheduler between two launcher rounds */
#define MIGRATE_WAKE_SET_SIZE 64

/* a database that asked for a scheduler (schedule, resume, CREATE EXTENSION) */
typedef struct MigrateWakeRequest
{
	Oid			database;
	uint64		generation;		/* wake_generation of its latest request */
} MigrateWakeRequest;

typedef struct MigrateShared
{
	LWLock	   *lock;			/* protects everything below */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	bool		rescan;			/* the wake set overflowed: look at all */
	uint64		wake_generation;	/* counts wake-ups of any database */
	int			nwake;			/* requests in wake[] */
	MigrateWakeRequest wake[MIGRATE_WAKE_SET_SIZE];
	int			nschedulers;
	int			nprogress;
	MigrateSchedulerSlot *schedulers;	/* nschedulers slots */
	MigrateProgress *progress;	/* nprogress slots, by pgprocno */
} MigrateShared;

extern MigrateShared *migrate_shared;

extern void migrate_shmem_init(void);
extern void migrate_shmem_ask_for_scheduler(Oid database);

#endif							/* MIGRATE_SHMEM_H */
