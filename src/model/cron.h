/*-------------------------------------------------------------------------
 *
 * cron.h
 *	  Five-field cron expressions: parsing, and the next time one fires.
 *
 * The worker parses a schedule once with migrate_cron_parse and then asks
 * migrate_cron_next_after for the next firing time whenever it has run a
 * schedule.  Both raise an ERROR on bad input, so callers that must not
 * fail (the worker's main loop) wrap them in PG_TRY or a subtransaction.
 *
 * IDENTIFICATION
 *	  src/model/cron.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CRON_H
#define MIGRATE_CRON_H

#include "datatype/timestamp.h"

/*
 * How far ahead migrate_cron_next_after looks before it gives up.  The
 * weekday calendar repeats every 28 years (between century years that are
 * not leap years), so an expression that has no match in that window,
 * such as "0 0 30 2 *", never fires at all.
 */
#define MIGRATE_CRON_SEARCH_YEARS 28

/*
 * A parsed expression.  Each field is a bitset: bit n is set when value n
 * matches.  The struct holds no pointers, so it can be copied freely,
 * e.g. into shared memory or a long-lived context.
 */
typedef struct CronSpec
{
	uint64		minute;			/* bits 0-59 */
	uint32		hour;			/* bits 0-23 */
	uint32		day_of_month;	/* bits 1-31 */
	uint16		month;			/* bits 1-12 */
	uint8		day_of_week;	/* bits 0-6, Sunday = 0 (7 is folded into 0) */

	/*
	 * Whether the day-of-month / day-of-week field started with "*" (a
	 * bare "*", or "*" with a step).  When neither did, a day matches if
	 * EITHER field matches; otherwise both must (Vixie cron's rule).
	 */
	bool		dom_star;
	bool		dow_star;
} CronSpec;

/* parse "m h dom mon dow" or a macro such as "@daily"; ERROR if invalid */
extern void migrate_cron_parse(const char *expression, CronSpec *spec);

/*
 * The first whole minute strictly after "after" at which spec fires, with
 * the fields read as wall-clock time in the named time zone.  A local time
 * that a spring-forward change skips does not fire; one that a fall-back
 * change repeats fires once, at its first occurrence.  ERROR if the zone
 * is unknown, or if nothing matches within MIGRATE_CRON_SEARCH_YEARS.
 */
extern TimestampTz migrate_cron_next_after(const CronSpec *spec,
										   TimestampTz after,
										   const char *timezone);

#endif							/* MIGRATE_CRON_H */
