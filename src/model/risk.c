/*-------------------------------------------------------------------------
 *
 * risk.c
 *	  Derived risk: low, medium or high, with the reasons.
 *
 * The rules (doc/migrate.md, "Derived risk", has them as a table):
 *
 *	high	an error finding; or a lock that blocks writes held while a
 *			table at least large_table_bytes big is scanned, rewritten or
 *			has an index built
 *	medium	a warning finding (the meta rules, about the lint itself, do
 *			not count); or such a lock and work on a smaller table that
 *			exists and holds rows, or whose size is unknown
 *	low		anything else: catalog-only changes, tables the script created
 *			itself or that are empty, locks that let writes go on
 *
 * Every fact that raised the level to where it ends is a reason, one short
 * sentence each; a low risk has one reason saying that nothing raised it.
 *
 * IDENTIFICATION
 *	  src/model/risk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "model/lint.h"
#include "model/lockfacts.h"
#include "model/risk.h"

int
migrate_risk_rank(const char *level)
{
	if (level == NULL)
		return 0;
	if (strcmp(level, "low") == 0)
		return 1;
	if (strcmp(level, "medium") == 0)
		return 2;
	if (strcmp(level, "high") == 0)
		return 3;
	return 0;
}

char *
migrate_risk_pretty_size(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}

/* the relation's name: the catalog's when it exists, else as written */
static char *
fact_relation_name(const MigrateSizedLockFact *sized)
{
	const RangeVar *rv = sized->fact->relation;

	if (sized->qualified != NULL)
		return sized->qualified;
	if (rv == NULL)
		return NULL;
	return quote_qualified_identifier(rv->schemaname, rv->relname);
}

/* a relation's catalog facts, by the name the script wrote */
typedef struct SizeCacheEntry
{
	const RangeVar *relation;
	bool		found;
	MigrateRelationFacts facts;
} SizeCacheEntry;

static bool
same_written_name(const RangeVar *a, const RangeVar *b)
{
	if (strcmp(a->relname, b->relname) != 0)
		return false;
	if ((a->schemaname == NULL) != (b->schemaname == NULL))
		return false;
	return a->schemaname == NULL || strcmp(a->schemaname, b->schemaname) == 0;
}

static const SizeCacheEntry *
relation_facts(const RangeVar *relation, const MigrateCatalogFacts *facts, List **cache)
{
	SizeCacheEntry *entry;
	ListCell   *lc;

	if (cache != NULL)
	{
		foreach(lc, *cache)
		{
			entry = lfirst(lc);
			if (same_written_name(entry->relation, relation))
				return entry;
		}
	}
	entry = palloc0(sizeof(SizeCacheEntry));
	entry->relation = relation;
	entry->found = facts->relation(relation, &entry->facts) && entry->facts.exists;
	if (cache != NULL)
		*cache = lappend(*cache, entry);
	return entry;
}

MigrateSizedLockFact *
migrate_risk_unsized_fact(int statement, MigrateLockFact *fact, bool created_here)
{
	MigrateSizedLockFact *sized = palloc0(sizeof(MigrateSizedLockFact));

	sized->statement = statement;
	sized->fact = fact;
	sized->bytes = -1;
	sized->created_here = created_here;
	return sized;
}

MigrateSizedLockFact *
migrate_risk_size_fact(int statement, MigrateLockFact *fact, bool created_here,
					   const MigrateCatalogFacts *facts, List **cache)
{
	MigrateSizedLockFact *sized = migrate_risk_unsized_fact(statement, fact, created_here);
	const SizeCacheEntry *entry;

	if (created_here || fact->relation == NULL || facts == NULL || facts->relation == NULL)
		return sized;
	entry = relation_facts(fact->relation, facts, cache);
	if (entry->found)
	{
		sized->bytes = entry->facts.total_bytes;
		sized->empty = entry->facts.empty;
		sized->qualified = entry->facts.qualified;
	}
	return sized;
}

/*
 * What migrate_risk_script_facts() knows per relation name as written: the
 * relations of that name the script created so far, and the catalog's
 * answers.  A hash on the name keeps a script of ten thousand statements
 * linear.
 */
typedef struct NameEntry
{
	char		relname[NAMEDATALEN];	/* the key, zero-padded */
	List	   *created;		/* RangeVar * */
	List	   *sizes;			/* SizeCacheEntry * (same_written_name) */
} NameEntry;

static NameEntry *
name_entry(HTAB *names, const RangeVar *rv)
{
	char		key[NAMEDATALEN];
	bool		found;
	NameEntry  *entry;

	memset(key, 0, sizeof(key));
	strlcpy(key, rv->relname, sizeof(key));
	entry = hash_search(names, key, HASH_ENTER, &found);
	if (!found)
	{
		entry->created = NIL;
		entry->sizes = NIL;
	}
	return entry;
}

/* created earlier, by name: a missing schema matches any (as lint.c does) */
static bool
created_earlier(HTAB *names, const RangeVar *rv)
{
	ListCell   *lc;

	if (rv == NULL)
		return false;
	foreach(lc, name_entry(names, rv)->created)
	{
		const RangeVar *c = lfirst(lc);

		if (c->schemaname == NULL || rv->schemaname == NULL ||
			strcmp(c->schemaname, rv->schemaname) == 0)
			return true;
	}
	return false;
}

/* the relation a CREATE TABLE [AS], VIEW or SEQUENCE creates, or NULL */
static RangeVar *
created_relation(Node *stmt)
{
	if (IsA(stmt, CreateStmt))
		return ((CreateStmt *) stmt)->relation;
	if (IsA(stmt, CreateTableAsStmt))
		return ((CreateTableAsStmt *) stmt)->into->rel;
	if (IsA(stmt, ViewStmt))
		return ((ViewStmt *) stmt)->view;
	if (IsA(stmt, CreateSeqStmt))
		return ((CreateSeqStmt *) stmt)->sequence;
	return NULL;
}

List *
migrate_risk_script_facts(const MigrateParsedScript *parsed, const MigrateCatalogFacts *facts)
{
	List	   *sized = NIL;
	HASHCTL		ctl;
	HTAB	   *names;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	names = hash_create("migrate lock facts by relation name", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	for (int i = 0; i < parsed->nstatements; i++)
	{
		const MigrateStatement *s = &parsed->statements[i];
		RangeVar   *creates = created_relation(s->parsetree);
		ListCell   *lc;

		foreach(lc, migrate_lock_facts(s->parsetree, facts))
		{
			MigrateLockFact *fact = lfirst(lc);
			MigrateSizedLockFact *one;

			one = migrate_risk_size_fact(s->number, fact, created_earlier(names, fact->relation),
										 facts,
										 fact->relation ? &name_entry(names, fact->relation)->sizes : NULL);
			one->creates = creates != NULL && fact->relation == creates;
			sized = lappend(sized, one);
		}
		/* lint.c counts tables only: an index on a new view is no news */
		if (creates != NULL && !IsA(s->parsetree, ViewStmt) && !IsA(s->parsetree, CreateSeqStmt))
		{
			NameEntry  *entry = name_entry(names, creates);

			entry->created = lappend(entry->created, creates);
		}
	}
	hash_destroy(names);
	return sized;
}

bool
migrate_risk_fact_may_be_heavy(const MigrateLockFact *fact)
{
	return fact->effect >= LOCK_EFFECT_SCAN && migrate_lock_blocks_writes(fact->mode);
}

bool
migrate_risk_fact_is_heavy(const MigrateSizedLockFact *sized)
{
	const MigrateLockFact *fact = sized->fact;

	if (!migrate_risk_fact_may_be_heavy(fact))
		return false;
	if (sized->created_here || sized->empty)
		return false;
	/* a relation the catalog does not know, and the script did not create */
	if (fact->relation != NULL && sized->bytes < 0)
		return false;
	return true;
}

const char *
migrate_risk_effect_verb(MigrateLockEffect effect)
{
	switch (effect)
	{
		case LOCK_EFFECT_SCAN:
			return "scans";
		case LOCK_EFFECT_BUILD:
			return "builds an index on";
		case LOCK_EFFECT_REWRITE:
			return "rewrites";
		default:
			return "changes";
	}
}

char *
migrate_risk_describe_fact(const char *command, const MigrateSizedLockFact *sized)
{
	const MigrateLockFact *fact = sized->fact;
	char	   *name = fact_relation_name(sized);
	const char *size;

	if (sized->creates)
		size = "new";
	else if (sized->created_here)
		size = "created by this migration";
	else if (sized->bytes < 0)
		size = fact->relation ? "not found" : "every table";
	else if (sized->empty)
		size = "empty";
	else
		size = migrate_risk_pretty_size(sized->bytes);
	return psprintf("%s%s%s: %s, %s, %s", command, name ? " " : "", name ? name : "",
					fact->mode == NoLock ? "no lock" : migrate_lock_mode_name(fact->mode),
					migrate_lock_effect_name(fact->effect), size);
}

/* raise the risk to "level" for "reason"; reasons below the final level go */
typedef struct Weighed
{
	int			rank;
	List	   *reasons[4];		/* by rank */
} Weighed;

static void
weigh(Weighed *w, int rank, char *reason)
{
	w->rank = Max(w->rank, rank);
	w->reasons[rank] = lappend(w->reasons[rank], reason);
}

MigrateDerivedRisk
migrate_risk_derive(List *findings, List *sized_facts, int64 large_table_bytes)
{
	static const char *const levels[] = {"low", "low", "medium", "high"};
	MigrateDerivedRisk risk = {"low", NIL};
	Weighed		w = {1, {NIL, NIL, NIL, NIL}};
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigrateLintFinding *f = lfirst(lc);

		/* the lint's own bookkeeping says nothing about the migration */
		if (strcmp(f->rule->category, "meta") == 0 || f->rule->severity == LINT_INFO)
			continue;
		weigh(&w, f->rule->severity == LINT_ERROR ? 3 : 2,
			  psprintf("statement %d: %s finding %s", f->statement,
					   migrate_lint_severity_name(f->rule->severity), f->rule->id));
	}
	foreach(lc, sized_facts)
	{
		MigrateSizedLockFact *s = lfirst(lc);
		char	   *name;
		bool		large;

		if (!migrate_risk_fact_is_heavy(s))
			continue;
		name = fact_relation_name(s);
		large = large_table_bytes >= 0 && s->bytes >= large_table_bytes;
		if (name == NULL)
			weigh(&w, 2, psprintf("statement %d: %s every table under %s, which blocks writes",
								  s->statement, migrate_risk_effect_verb(s->fact->effect),
								  migrate_lock_mode_name(s->fact->mode)));
		else if (large)
			weigh(&w, 3, psprintf("statement %d: %s %s (%s, a large table: at least %s) under %s, which blocks writes",
								  s->statement, migrate_risk_effect_verb(s->fact->effect), name,
								  migrate_risk_pretty_size(s->bytes),
								  migrate_risk_pretty_size(large_table_bytes),
								  migrate_lock_mode_name(s->fact->mode)));
		else
			weigh(&w, 2, psprintf("statement %d: %s %s (%s) under %s, which blocks writes",
								  s->statement, migrate_risk_effect_verb(s->fact->effect), name,
								  migrate_risk_pretty_size(s->bytes),
								  migrate_lock_mode_name(s->fact->mode)));
	}
	risk.level = levels[w.rank];
	risk.reasons = w.reasons[w.rank];
	if (w.rank == 1)
		risk.reasons = list_make1(pstrdup("no warning or error finding, and nothing scanned, rewritten or indexed under a lock that blocks writes on a table with rows"));
	return risk;
}
