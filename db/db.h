/* Stockroom — the SQLite layer: one database file, its pragmas, numbered
 * migrations and a small pool of connections. Knows nothing of HTTP, JSON or
 * libvips; plain C values go in and come out. */
#ifndef STOCKROOM_DB_H
#define STOCKROOM_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_ERR_LEN 256
#define DB_WUR __attribute__((warn_unused_result))

/* Return codes shared by every db_ function. */
enum {
    DB_OK = 0,
    DB_EGENERIC = -1,  /* SQLite or I/O failure; err says which */
    DB_ENOTFOUND = -2, /* no such row */
    DB_ECONFLICT = -3, /* unique key taken, state changed, key reused */
    DB_EFUNDS = -4,    /* a balance would go below what is allowed */
    DB_EBUSY = -5,     /* the database stayed locked past the timeout */
    DB_EINVAL = -6,    /* a value the caller should have checked */
    DB_ETOONEW = -7,   /* the file was written by a newer Stockroom */
    DB_ELIMIT = -8,    /* a rate or size limit was hit */
    DB_EREUSED = -9,   /* idempotency key already used for another request */
    DB_EGONE = -10     /* a one-time token that was used or expired */
};

struct db;

/* Open (creating if needed) the database file at path, set WAL,
 * synchronous=FULL, foreign keys, recursive triggers and a busy timeout on
 * every connection, and apply pending migrations. DB_ETOONEW when the file's
 * schema is newer than this build. On success *out is owned by the caller
 * (db_close). Thread-safe once open: every function below may be called from
 * any thread. */
int db_open(const char *path, struct db **out, char err[DB_ERR_LEN]) DB_WUR;

/* Close every connection; accepts NULL. No call may be in flight. */
void db_close(struct db *db);

/* Copy the database into a new file at path, consistent while the server
 * keeps writing (SQLite's online backup). */
int db_backup(struct db *db, const char *path, char err[DB_ERR_LEN]) DB_WUR;

#endif
