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

#endif							/* MIGRATE_COMPAT_H */
