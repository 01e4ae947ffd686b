/*-------------------------------------------------------------------------
 *
 * invert.c
 *	  Generating a down script from an up script.
 *
 * CONTRACT STUB (issue 12): wp12-4 writes it.  Until then nothing is
 * invertible.
 *
 * IDENTIFICATION
 *	  src/model/invert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "model/invert.h"

List *
migrate_invert_script(const MigrateParsedScript *parsed, const MigrateCatalogFacts *facts)
{
	List	   *result = NIL;

	for (int i = 0; i < parsed->nstatements; i++)
	{
		const MigrateStatement *stmt = &parsed->statements[i];
		MigrateInversion *inv = palloc0(sizeof(MigrateInversion));

		inv->statement = stmt->number;
		inv->line = stmt->line;
		inv->command = stmt->classified.command;
		inv->invertible = false;
		inv->reason = pstrdup("not implemented yet");
		result = lappend(result, inv);
	}
	return result;
}

char *
migrate_invert_down_script(List *inversions)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = list_length(inversions) - 1; i >= 0; i--)
	{
		MigrateInversion *inv = list_nth(inversions, i);

		if (inv->invertible)
			appendStringInfo(&out, "%s;\n", inv->down);
		else
			appendStringInfo(&out, "-- statement %d (line %d, %s) cannot be inverted: %s\n",
							 inv->statement, inv->line, inv->command, inv->reason);
	}
	return out.data;
}

int
migrate_invert_count_irreversible(List *inversions)
{
	ListCell   *lc;
	int			count = 0;

	foreach(lc, inversions)
		count += ((MigrateInversion *) lfirst(lc))->invertible ? 0 : 1;
	return count;
}
