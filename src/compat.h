/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL version difference migrate cares about (13 to 17).
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COMPAT_H
#define MIGRATE_COMPAT_H

#include "funcapi.h"

/* PG15 added SetSingleFuncCall; PG16 renamed it InitMaterializedSRF */
#if PG_VERSION_NUM >= 160000
#define migrate_materialize_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#elif PG_VERSION_NUM >= 150000
#define migrate_materialize_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#else
extern void migrate_materialize_srf_compat(FunctionCallInfo fcinfo);
#define migrate_materialize_srf(fcinfo) migrate_materialize_srf_compat(fcinfo)
#endif

/* PG15 replaced EmitWarningsOnPlaceholders with MarkGUCPrefixReserved */
#if PG_VERSION_NUM >= 150000
#define migrate_reserve_guc_prefix(p) MarkGUCPrefixReserved(p)
#else
#define migrate_reserve_guc_prefix(p) EmitWarningsOnPlaceholders(p)
#endif

/* PG17 moved the local transaction id into MyProc->vxid, and numbers procs */
#if PG_VERSION_NUM >= 170000
#define migrate_local_xid() (MyProc->vxid.lxid)
#define migrate_my_procno() (MyProcNumber)
#else
#define migrate_local_xid() (MyProc->lxid)
#define migrate_my_procno() (MyProc->pgprocno)
#endif

/* PG14 turned REINDEX's options into a list of DefElems ... */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_REINDEX_HAS_PARAMS 1
/* ... and added ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY */
#define MIGRATE_HAVE_DETACH_CONCURRENTLY 1
#endif

/* PG14 added CREATE OR REPLACE TRIGGER (CreateTrigStmt's replace) */
#if PG_VERSION_NUM >= 140000
#define migrate_trigger_replaces(stmt) ((stmt)->replace)
#else
#define migrate_trigger_replaces(stmt) false
#endif

/*
 * PG14 made refreshing a subscription refuse a transaction block (table
 * synchronisation commits on its own since then): REFRESH PUBLICATION and
 * SET/ADD/DROP PUBLICATION with refresh.  PG14 also split PG13's one
 * ALTER_SUBSCRIPTION_PUBLICATION kind (SET PUBLICATION) into SET, ADD and
 * DROP.  PG13's AlterSubscription() is not even told whether it runs at
 * top level: every ALTER SUBSCRIPTION runs inside a transaction block.
 */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_SUBSCRIPTION_REFRESH_NONTRANSACTIONAL 1
#endif

/* PG14 added the cryptohash API; PG13 has only the SHA-2 functions */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_HAVE_CRYPTOHASH 1
#endif

/* PG15 renamed pg_analyze_and_rewrite for fixed parameter types */
#if PG_VERSION_NUM >= 150000
#define migrate_analyze_and_rewrite(tree, sql) \
	pg_analyze_and_rewrite_fixedparams((tree), (sql), NULL, 0, NULL)
#else
#define migrate_analyze_and_rewrite(tree, sql) \
	pg_analyze_and_rewrite((tree), (sql), NULL, 0, NULL)
#endif

/* PG14 added readOnlyTree to ProcessUtility */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define MIGRATE_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define MIGRATE_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define MIGRATE_UTILITY_ARGS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/*
 * PG16.1 (and 17) look up the backend status snapshot by index with
 * pgstat_get_local_beentry_by_index; before, pgstat_fetch_stat_local_beentry
 * took that index (1-based)
 */
#if PG_VERSION_NUM >= 160001
#define migrate_local_beentry(i) pgstat_get_local_beentry_by_index(i)
#else
#define migrate_local_beentry(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* PG16 folded the per-catalog ownership checks into object_ownercheck */
#if PG_VERSION_NUM >= 160000
#define migrate_database_ownercheck(db, role) \
	object_ownercheck(DatabaseRelationId, (db), (role))
#else
#define migrate_database_ownercheck(db, role) pg_database_ownercheck((db), (role))
#endif

/* PG16 folded the per-catalog ACL checks into object_aclcheck */
#if PG_VERSION_NUM >= 160000
#define migrate_tablespace_aclcheck(ts, role, mode) \
	object_aclcheck(TableSpaceRelationId, (ts), (role), (mode))
#else
#define migrate_tablespace_aclcheck(ts, role, mode) \
	pg_tablespace_aclcheck((ts), (role), (mode))
#endif

/* PG16 keeps the settings in a hash table and get_guc_variables() changed */
struct config_generic;
extern struct config_generic *migrate_compat_find_guc(const char *name);

/*
 * A type input function called so that invalid input is an answer, not an
 * error: PG16 has soft input errors (DirectInputFunctionCallSafe); before,
 * compat.c catches the function's data exception.  False when "text" is
 * not valid input; *result is set otherwise.
 */
extern bool migrate_compat_call_input(PGFunction func, const char *text, Datum *result);

/* PG14 renamed AlterTableStmt's relkind (an ObjectType) to objtype */
#if PG_VERSION_NUM >= 140000
#define migrate_alter_table_objtype(stmt) ((stmt)->objtype)
#else
#define migrate_alter_table_objtype(stmt) ((stmt)->relkind)
#endif

/* PG14 renamed CreateTableAsStmt's relkind to objtype */
#if PG_VERSION_NUM >= 140000
#define migrate_ctas_objtype(stmt) ((stmt)->objtype)
#else
#define migrate_ctas_objtype(stmt) ((stmt)->relkind)
#endif

/* PG14 added include_out_arguments to FuncnameGetCandidates (wp12-1) */
#if PG_VERSION_NUM >= 140000
#define migrate_funcname_candidates(names, nargs) \
	FuncnameGetCandidates((names), (nargs), NIL, true, true, false, true)
#else
#define migrate_funcname_candidates(names, nargs) \
	FuncnameGetCandidates((names), (nargs), NIL, true, true, true)
#endif

#endif							/* MIGRATE_COMPAT_H */
