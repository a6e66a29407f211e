/* Stockroom — what the db/ modules share with each other and nobody else:
 * borrowing a pooled connection, transactions, and the schema pieces that
 * the migration list applies in order. */
#ifndef STOCKROOM_DBINT_H
#define STOCKROOM_DBINT_H

#include <sqlite3.h>

#include "db.h"

/* The test build's fault hooks (fault.h): every db/ file's SQLite steps and
 * allocations go through a counter that can make the Nth one fail. The
 * headers come first so their own declarations are not rewritten. */
#ifdef STOCKROOM_FAULTS
#include <stdlib.h>
#include <string.h>

#include "fault.h"

int db__fault_step(sqlite3_stmt *st);
int db__fault_exec(sqlite3 *c, const char *sql,
                   int (*cb)(void *, int, char **, char **), void *arg,
                   char **errmsg);
void *db__fault_malloc(size_t n);
void *db__fault_calloc(size_t n, size_t size);
void *db__fault_realloc(void *p, size_t n);
char *db__fault_strdup(const char *s);
/* Install the SQLite allocator wrapper and read STOCKROOM_FAULT; must run
 * before SQLite initialises (db_open's one-time set-up). */
void db__fault_init(void);

#define sqlite3_step(s) db__fault_step(s)
#define sqlite3_exec(c, sql, cb, arg, e) db__fault_exec(c, sql, cb, arg, e)
#define malloc(n) db__fault_malloc(n)
#define calloc(n, size) db__fault_calloc(n, size)
#define realloc(p, n) db__fault_realloc(p, n)
#define strdup(s) db__fault_strdup(s)
#endif

/* Borrow a connection for the length of one call; blocks while all are
 * lent out. Give it back with db_conn_put, on every path. */
sqlite3 *db_conn_get(struct db *db);
void db_conn_put(struct db *db, sqlite3 *c);

/* BEGIN IMMEDIATE (so a read-then-write never fails with SQLITE_BUSY at the
 * write), COMMIT, and ROLLBACK that is harmless when nothing is open. */
int db_begin(sqlite3 *c, char err[DB_ERR_LEN]) DB_WUR;
int db_commit(sqlite3 *c, char err[DB_ERR_LEN]) DB_WUR;
void db_rollback(sqlite3 *c);

/* Prepare sql; on failure write SQLite's message into err. */
int db_prepare(sqlite3 *c, const char *sql, sqlite3_stmt **st,
               char err[DB_ERR_LEN]) DB_WUR;

/* Prepare sql once per connection and keep it (sql must be a string
 * literal: its address is the key). The statement comes back reset with
 * no bindings. Hand it back with db_stmt_done, never sqlite3_finalize;
 * db_conn_put resets any left over. */
int db_prepare_cached(struct db *db, sqlite3 *c, const char *sql,
                      sqlite3_stmt **st, char err[DB_ERR_LEN]) DB_WUR;
void db_stmt_done(struct db *db, sqlite3 *c, sqlite3_stmt *st);

/* Map an SQLite result code to a DB_ code, writing what into err. */
int db_fail(sqlite3 *c, int src, const char *what, char err[DB_ERR_LEN]);

/* Step a statement that changes rows: DB_OK when it changed one or more,
 * DB_ENOTFOUND with "no such <what>" in err when none, else the failure. */
int db_step_change(sqlite3 *c, sqlite3_stmt *st, const char *what,
                   char err[DB_ERR_LEN]);

/* Run SQL with no result rows. */
int db_exec(sqlite3 *c, const char *sql, char err[DB_ERR_LEN]) DB_WUR;

/* Copy column i into a fixed buffer, truncating; NULL becomes "". */
void db_col_copy(sqlite3_stmt *st, int i, char *buf, size_t len);

/* Schema pieces, each one numbered migration (migrate.c lists them). */
extern const char db_schema_accounts[];
extern const char db_schema_catalog[];
extern const char db_schema_ledger[];
extern const char db_schema_ledger_sales[];
extern const char db_schema_acc_mail[];
extern const char db_schema_outbox[];
extern const char db_schema_licence_shares[];
extern const char db_schema_catalog_browse[];
extern const char db_schema_image_edits[];
extern const char db_schema_safety[];

/* Inside the caller's transaction on c: append one line to the audit log
 * (audit.c). actor_id, action, object_type and object_id are required;
 * reason may be NULL. */
int db__audit_add(sqlite3 *c, const char *actor_id, const char *action,
                  const char *object_type, const char *object_id,
                  const char *reason, char err[DB_ERR_LEN]) DB_WUR;
extern const char db_schema_briefs[]; /* brief_schema.c */
extern const char db_schema_checkout[];

#endif
