/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  Lint of migration scripts: rules over PostgreSQL's raw parse tree.
 *
 * A rule is a row of a module's table (id, severity, category, summary,
 * hint, a bad example and its safe rewrite); a module's check function
 * looks at one statement at a time and reports findings by rule id.
 * lint.c runs every module over every statement, keeps what the script
 * did so far (tables it created, timeouts it set), and applies the
 * "@lint-ignore:" suppressions of the header and of the comment lines
 * right before a statement.  Rules that need the live catalog ask
 * state->facts, which is NULL for a text-only lint.
 *
 * IDENTIFICATION
 *	  src/model/lint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include "model/catalogfacts.h"
#include "model/environment.h"
#include "model/header.h"
#include "model/parse.h"

typedef enum MigrateLintSeverity
{
	LINT_INFO = 0,
	LINT_WARNING = 1,
	LINT_ERROR = 2
} MigrateLintSeverity;

typedef struct MigrateLintRule
{
	const char *id;				/* "require-concurrent-index-creation" */
	MigrateLintSeverity severity;
	const char *category;		/* locking, rewrite, destructive, types,
								 * safety, naming, catalog, meta */
	const char *summary;		/* what it finds, one sentence */
	const char *hint;			/* the safe pattern, one sentence: the
								 * default hint of its findings */
	const char *bad;			/* SQL it reports */
	const char *safe;			/* the safe rewrite of "bad" */
	bool		catalog;		/* only the live catalog can decide it */
} MigrateLintRule;

typedef struct MigrateLintFinding
{
	const MigrateLintRule *rule;
	int			statement;		/* 1-based; 0: the migration as a whole */
	int			line;			/* line of the statement's first token; 1
								 * for the migration as a whole */
	char	   *message;
	char	   *hint;
	int			seq;			/* order of reporting (lint.c sorts by it) */
} MigrateLintFinding;

/* what the lint needs to know besides the script */
typedef struct MigrateLintOptions
{
	/* the migration runs in one transaction (not on the worker path) */
	bool		transactional;
	/* the environment asks for lock_timeout/statement_timeout before
	 * lock-heavy statements (rule require-timeout-settings) */
	bool		require_timeouts;
	/* the environment (or the header) already arms them for every
	 * statement, so the script need not */
	bool		lock_timeout_given;
	bool		statement_timeout_given;
	/* tables at least this big (bytes) are "large"; < 0: no size rule */
	int64		large_table_bytes;
} MigrateLintOptions;

/* the lint of one script, as the check functions see it */
typedef struct MigrateLintState
{
	const MigrateParsedScript *parsed;
	const MigrateHeader *header;
	const MigrateLintOptions *options;
	const MigrateCatalogFacts *facts;	/* NULL: text only */
	const MigrateStatement *statement;	/* the statement being checked */
	Node	   *stmt;			/* its parse tree (RawStmt's stmt) */
	/* what earlier statements of this script did */
	List	   *created_tables; /* RangeVar *, CREATE TABLE [AS] */
	bool		lock_timeout_set;	/* SET [LOCAL] lock_timeout ran */
	bool		statement_timeout_set;
	/* results */
	List	   *findings;		/* MigrateLintFinding * */
	/* each module's own memory across statements (NULL at the start) */
	void	   *locking_private;
	void	   *types_private;
	void	   *size_private;
	/* lint.c's private bookkeeping of suppressions */
	void	   *private;
} MigrateLintState;

/* a module: a table of rules and a check run on every statement */
typedef struct MigrateLintModule
{
	const MigrateLintRule *rules;
	int			nrules;
	void		(*check) (MigrateLintState *state);	/* or NULL */
	/* after the last statement, state->statement NULL; or NULL */
	void		(*finish) (MigrateLintState *state);
} MigrateLintModule;

/* the modules, one file each (lint.c lists them in this order) */
extern const MigrateLintModule migrate_lint_module_locking; /* lint_locking.c */
extern const MigrateLintModule migrate_lint_module_types;	/* lint_types.c */
extern const MigrateLintModule migrate_lint_module_size;	/* lint_size.c */
extern const MigrateLintModule migrate_lint_module_meta;	/* lint.c */

/*
 * Report a finding of rule "rule_id" on the current statement.  A NULL
 * hint uses the rule's own.  A suppressed finding is counted as a use of
 * its suppression and dropped.  Elog(ERROR)s on an unknown rule id: that
 * is a bug, not bad input.
 */
extern void migrate_lint_report(MigrateLintState *state, const char *rule_id,
								const char *hint, const char *fmt,...) pg_attribute_printf(4, 5);

/*
 * Whether "relation" is new enough that locking it costs nothing: an
 * earlier statement of this script created it, or the catalog knows it is
 * empty.  Lock and rewrite rules stay silent on such a table.
 */
extern bool migrate_lint_table_is_new(MigrateLintState *state, const RangeVar *relation);

/* the same relation by name as written: a name without a schema matches any */
extern bool migrate_lint_same_relation(const RangeVar *a, const RangeVar *b);

/* whether an earlier statement created "relation" (text only) */
extern bool migrate_lint_table_created_here(const MigrateLintState *state,
											const RangeVar *relation);

/* the relation facts of the catalog; false without facts or when absent */
extern bool migrate_lint_relation(MigrateLintState *state, const RangeVar *relation,
								  MigrateRelationFacts *facts);

/* the options of a script under an environment (NULL: none) */
extern void migrate_lint_options_init(MigrateLintOptions *options,
									  const MigrateParsedScript *parsed,
									  const MigrateHeader *header,
									  const MigrateEnvironment *env);

/*
 * Lint a parsed script.  Findings come in statement order, migration-wide
 * ones (statement 0) first.
 */
extern List *migrate_lint_script(const MigrateParsedScript *parsed,
								 const MigrateHeader *header,
								 const MigrateLintOptions *options,
								 const MigrateCatalogFacts *facts);

/* the rule of an id, or NULL; and every rule, in the modules' order */
extern const MigrateLintRule *migrate_lint_find_rule(const char *id);
extern int	migrate_lint_rule_count(void);
extern const MigrateLintRule *migrate_lint_rule_at(int index);

extern const char *migrate_lint_severity_name(MigrateLintSeverity severity);


#endif							/* MIGRATE_LINT_H */
