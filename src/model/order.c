/*-------------------------------------------------------------------------
 *
 * order.c
 *	  Dependency ordering of migrations.
 *
 * The migrations to apply are put in a topological order of their
 * @dependencies, ties broken by natural version order: Kahn's algorithm
 * with a min-heap over positions in the registry, which is sorted in
 * natural version order, so that among the migrations whose dependencies
 * are all placed the lowest version always comes next.  Without any
 * dependencies that is plain version order.  A cycle is reported with
 * the migrations that form it.
 *
 * Pure: it works on the registry the store loaded and on dependencies
 * already resolved to positions in it (exec/plan.c does both).
 *
 * IDENTIFICATION
 *	  src/model/order.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/binaryheap.h"
#include "lib/stringinfo.h"

#include "errors.h"
#include "model/order.h"

/* min-heap on registry position, which is natural version order */
static int
lowest_position_first(Datum a, Datum b, void *arg)
{
	return DatumGetInt32(b) - DatumGetInt32(a);
}

/*
 * Report a dependency cycle among the migrations Kahn's algorithm could
 * not place (indegree still positive).  Every such migration depends on
 * another such migration, so following those edges must revisit one.
 */
pg_attribute_noreturn()
static void
report_cycle(MigrateMigration *registry, int count, List **deps, int *indegree)
{
	int		   *visit_order = palloc(sizeof(int) * count);
	int			start = 0;
	int			step = 0;
	StringInfoData cycle;

	for (int i = 0; i < count; i++)
		visit_order[i] = -1;
	while (indegree[start] == 0)
		start++;

	/* walk until some migration is seen twice */
	for (int i = start; visit_order[i] < 0;)
	{
		ListCell   *lc;

		visit_order[i] = step++;
		foreach(lc, deps[i])
		{
			if (indegree[lfirst_int(lc)] > 0)
			{
				start = i = lfirst_int(lc);
				break;
			}
		}
	}

	initStringInfo(&cycle);
	appendStringInfo(&cycle, "\"%s\"", registry[start].version);
	for (int i = start;;)
	{
		ListCell   *lc;

		foreach(lc, deps[i])
		{
			if (indegree[lfirst_int(lc)] > 0 && visit_order[lfirst_int(lc)] >= visit_order[start])
			{
				i = lfirst_int(lc);
				break;
			}
		}
		appendStringInfo(&cycle, " -> \"%s\"", registry[i].version);
		if (i == start)
			break;
	}

	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_DEPENDENCY_CYCLE),
			 errmsg("migration dependencies form a cycle: %s", cycle.data),
			 errdetail("Each arrow points from a migration to one it depends on."),
			 errhint("Remove one of these dependencies from the @dependencies headers.")));
}

/*
 * The migrations of "registry" (in natural version order) that are not
 * "done", dependencies first, ties in natural version order: a List of
 * MigrateMigration pointers.  deps[i] holds the positions of migration i's
 * dependencies; a dependency that is done is not waited for.  A cycle
 * among the rest is an error naming its members.
 */
List *
migrate_order_dependencies_first(MigrateMigration *registry, int count,
								 List **deps, const bool *done)
{
	List	  **dependants = palloc0(sizeof(List *) * Max(count, 1));
	int		   *indegree = palloc0(sizeof(int) * Max(count, 1));
	binaryheap *ready = binaryheap_allocate(Max(count, 1), lowest_position_first, NULL);
	List	   *order = NIL;
	int			pending = 0;

	for (int i = 0; i < count; i++)
	{
		ListCell   *lc;

		if (done[i])
			continue;
		pending++;
		foreach(lc, deps[i])
		{
			int			dep = lfirst_int(lc);

			if (!done[dep])
			{
				indegree[i]++;
				dependants[dep] = lappend_int(dependants[dep], i);
			}
		}
		if (indegree[i] == 0)
			binaryheap_add_unordered(ready, Int32GetDatum(i));
	}
	binaryheap_build(ready);

	while (!binaryheap_empty(ready))
	{
		int			i = DatumGetInt32(binaryheap_remove_first(ready));
		ListCell   *lc;

		order = lappend(order, &registry[i]);
		foreach(lc, dependants[i])
		{
			if (--indegree[lfirst_int(lc)] == 0)
				binaryheap_add(ready, Int32GetDatum(lfirst_int(lc)));
		}
	}
	if (list_length(order) < pending)
		report_cycle(registry, count, deps, indegree);
	return order;
}
