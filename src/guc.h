/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  migrate.* configuration parameters.
 *
 * IDENTIFICATION
 *	  src/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_GUC_H
#define MIGRATE_GUC_H

extern int	migrate_lock_timeout;
extern int	migrate_progress_level;
extern bool migrate_message_timing;
extern int	migrate_max_workers;
extern int	migrate_naptime;
extern char *migrate_databases;
extern char *migrate_worker_role;

extern char *migrate_environment_name;
extern int	migrate_backup_max_kb;
extern bool migrate_capture_drift;
extern void migrate_guc_define_all(void);

#endif							/* MIGRATE_GUC_H */
