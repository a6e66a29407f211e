/* Stockroom — database handle: open, pragmas, migrations, connection pool. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dbint.h"

#define DB_POOL 8        /* connections; more threads than this wait */
#define DB_BUSY_MS 10000 /* how long a writer waits for the lock */
#define DB_STMT_CACHE 96 /* prepared statements kept per connection */

/* Statements prepared once per connection and kept: compiling a statement
 * (with its triggers and foreign keys) costs more than running it. Keyed
 * by the address of the SQL text, which is always a string literal. */
struct stmt_cache {
    const char *sql[DB_STMT_CACHE];
    sqlite3_stmt *st[DB_STMT_CACHE];
    int n;
};

struct db {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    sqlite3 *conn[DB_POOL];
    int busy[DB_POOL]; /* 1 while lent out */
    struct stmt_cache cache[DB_POOL];
};

/* Every schema change is one entry, applied once, in order; the index plus
 * one is the user_version it leaves behind. Never edit a shipped entry:
 * append a new one. */
static const char *const migrations[] = {
    db_schema_accounts,       db_schema_catalog,        db_schema_ledger,
    db_schema_ledger_sales,   db_schema_acc_mail,       db_schema_outbox,
    db_schema_licence_shares, db_schema_catalog_browse, db_schema_image_edits,
    db_schema_safety,         db_schema_briefs,         db_schema_checkout,
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
db_fail(sqlite3 *c, int src, const char *what, char err[DB_ERR_LEN])
{
    int code = src & 0xff;

    if (err)
        snprintf(err, DB_ERR_LEN, "%s: %s", what,
                 c ? sqlite3_errmsg(c) : sqlite3_errstr(src));
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return DB_EBUSY;
    if (code == SQLITE_CONSTRAINT)
        return DB_ECONFLICT;
    return DB_EGENERIC;
}

int
db_exec(sqlite3 *c, const char *sql, char err[DB_ERR_LEN])
{
    int rc = sqlite3_exec(c, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return db_fail(c, rc, "exec", err);
    return DB_OK;
}

int
db_step_change(sqlite3 *c, sqlite3_stmt *st, const char *what,
               char err[DB_ERR_LEN])
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        return db_fail(c, rc, what, err);
    if (sqlite3_changes(c) == 0) {
        snprintf(err, DB_ERR_LEN, "no such %s", what);
        return DB_ENOTFOUND;
    }
    return DB_OK;
}

int
db_prepare(sqlite3 *c, const char *sql, sqlite3_stmt **st, char err[DB_ERR_LEN])
{
    int rc = sqlite3_prepare_v2(c, sql, -1, st, NULL);

    if (rc != SQLITE_OK) {
        *st = NULL;
        return db_fail(c, rc, "prepare", err);
    }
    return DB_OK;
}

int
db_begin(sqlite3 *c, char err[DB_ERR_LEN])
{
    return db_exec(c, "BEGIN IMMEDIATE", err);
}

int
db_commit(sqlite3 *c, char err[DB_ERR_LEN])
{
    int rc = db_exec(c, "COMMIT", err);

    if (rc != DB_OK)
        db_rollback(c);
    return rc;
}

void
db_rollback(sqlite3 *c)
{
    if (!sqlite3_get_autocommit(c))
        sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
}

void
db_col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    snprintf(buf, len, "%s", s ? (const char *)s : "");
}

sqlite3 *
db_conn_get(struct db *db)
{
    sqlite3 *c = NULL;

    pthread_mutex_lock(&db->lock);
    while (!c) {
        for (int i = 0; i < DB_POOL; i++) {
            if (!db->busy[i]) {
                db->busy[i] = 1;
                c = db->conn[i];
                break;
            }
        }
        if (!c)
            pthread_cond_wait(&db->freed, &db->lock);
    }
    pthread_mutex_unlock(&db->lock);
    return c;
}

static struct stmt_cache *
cache_of(struct db *db, sqlite3 *c)
{
    for (int i = 0; i < DB_POOL; i++) {
        if (db->conn[i] == c)
            return &db->cache[i];
    }
    return NULL;
}

int
db_prepare_cached(struct db *db, sqlite3 *c, const char *sql, sqlite3_stmt **st,
                  char err[DB_ERR_LEN])
{
    struct stmt_cache *sc = cache_of(db, c);
    int rc;

    for (int i = 0; sc && i < sc->n; i++) {
        if (sc->sql[i] == sql) {
            sqlite3_reset(sc->st[i]);
            sqlite3_clear_bindings(sc->st[i]);
            *st = sc->st[i];
            return DB_OK;
        }
    }
    rc = sqlite3_prepare_v3(c, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return db_fail(c, rc, "prepare", err);
    }
    if (sc && sc->n < DB_STMT_CACHE) {
        sc->sql[sc->n] = sql;
        sc->st[sc->n++] = *st;
    }
    return DB_OK;
}

void
db_stmt_done(struct db *db, sqlite3 *c, sqlite3_stmt *st)
{
    struct stmt_cache *sc = cache_of(db, c);

    for (int i = 0; sc && i < sc->n; i++) {
        if (sc->st[i] == st) {
            sqlite3_reset(st);
            return;
        }
    }
    /* Not cached (the cache was full): it was the caller's alone. */
    sqlite3_finalize(st);
}

void
db_conn_put(struct db *db, sqlite3 *c)
{
    struct stmt_cache *sc = cache_of(db, c);

    /* A statement left mid-result would keep a read snapshot open, and a
     * caller that left a transaction open on an error path must not hand
     * it to the next borrower. */
    for (int i = 0; sc && i < sc->n; i++)
        sqlite3_reset(sc->st[i]);
    db_rollback(c);
    pthread_mutex_lock(&db->lock);
    for (int i = 0; i < DB_POOL; i++) {
        if (db->conn[i] == c)
            db->busy[i] = 0;
    }
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->lock);
}

/* SQLite's own busy handler sleeps up to 25 ms at a time: under a stream
 * of short write transactions a waiting writer would sleep through dozens
 * of commits. Poll every 0.1 ms at first, then every 1 ms, for about as
 * long as DB_BUSY_MS. */
static int
busy_wait(void *arg, int n)
{
    struct timespec t = {0, n < 20 ? 100000 : 1000000};

    (void)arg;
    if (n >= 20 + DB_BUSY_MS)
        return 0;
    nanosleep(&t, NULL);
    return 1;
}

static int
conn_open(const char *path, sqlite3 **out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    int rc = sqlite3_open_v2(
        path, &c,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        rc = db_fail(c, rc, "open", err);
        goto out;
    }
    sqlite3_busy_handler(c, busy_wait, NULL);
    sqlite3_extended_result_codes(c, 1);
    /* synchronous=FULL: money must survive a power cut (PITFALLS);
     * recursive_triggers: INSERT OR REPLACE fires the delete guards. */
    rc = db_exec(c,
                 "PRAGMA journal_mode=WAL;"
                 "PRAGMA synchronous=FULL;"
                 "PRAGMA foreign_keys=ON;"
                 "PRAGMA recursive_triggers=ON;"
                 "PRAGMA cache_size=-8000;"
                 "PRAGMA temp_store=MEMORY;",
                 err);
    if (rc != DB_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    sqlite3_close(c);
    return rc;
}

static int
migrate(sqlite3 *c, char err[DB_ERR_LEN])
{
    int rc, have = 0;
    sqlite3_stmt *st = NULL;
    char sql[64];

    rc = db_begin(c, err);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare(c, "PRAGMA user_version", &st, err);
    if (rc != DB_OK)
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    /* A statement still running would make a migration's DROP fail with
     * "table is locked". */
    sqlite3_reset(st);
    if (have > N_MIGRATIONS) {
        snprintf(err, DB_ERR_LEN,
                 "database schema version %d is newer than "
                 "this build's %d: upgrade Stockroom",
                 have, N_MIGRATIONS);
        rc = DB_ETOONEW;
        goto out;
    }
    for (int v = have; v < N_MIGRATIONS; v++) {
        rc = db_exec(c, migrations[v], err);
        if (rc != DB_OK)
            goto out;
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        rc = db_exec(c, sql, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    db_rollback(c);
    return rc;
}

/* SQLite counts every allocation under one global mutex unless told not
 * to: with many threads searching, that mutex was a hot spot. Must run
 * before SQLite initialises; later calls are refused harmlessly. */
static void
tune_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
#ifdef STOCKROOM_FAULTS
    db__fault_init();
#endif
}

/* SQLite gives the -wal and -shm files the mode of the database file, so
 * making that one 0600 before SQLite opens it keeps all three private. */
static int
file_private(const char *path, char err[DB_ERR_LEN])
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0 ||
        ((st.st_mode & 077) && fchmod(fd, 0600) < 0)) {
        snprintf(err, DB_ERR_LEN, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int
db_open(const char *path, struct db **out, char err[DB_ERR_LEN])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct db *db;
    int rc = DB_OK;

    pthread_once(&once, tune_sqlite);
    if (file_private(path, err) < 0)
        return DB_EGENERIC;
    db = calloc(1, sizeof *db);

    if (!db) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        return DB_EGENERIC;
    }
    pthread_mutex_init(&db->lock, NULL);
    pthread_cond_init(&db->freed, NULL);
    for (int i = 0; i < DB_POOL; i++) {
        rc = conn_open(path, &db->conn[i], err);
        if (rc != DB_OK)
            goto out;
        if (i == 0) {
            rc = migrate(db->conn[0], err);
            if (rc != DB_OK)
                goto out;
        }
    }
    *out = db;
    db = NULL;
out:
    db_close(db);
    return rc;
}

void
db_close(struct db *db)
{
    if (!db)
        return;
    for (int i = 0; i < DB_POOL; i++) {
        if (db->conn[i]) {
            /* Keep the planner's statistics fresh, cheaply (SQLite's
             * advice for long-lived connections is to run it at close). */
            if (i == 0)
                sqlite3_exec(db->conn[i], "PRAGMA optimize", NULL, NULL, NULL);
            for (int k = 0; k < db->cache[i].n; k++)
                sqlite3_finalize(db->cache[i].st[k]);
            db->cache[i].n = 0;
            /* The last close checkpoints, folding the -wal file in. */
            sqlite3_close_v2(db->conn[i]);
            db->conn[i] = NULL;
        }
    }
    pthread_cond_destroy(&db->freed);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

int
db_backup(struct db *db, const char *path, char err[DB_ERR_LEN])
{
    sqlite3 *src = db_conn_get(db);
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    int rc = DB_EGENERIC;

    if (file_private(path, err) < 0)
        goto out;
    rc = sqlite3_open(path, &dst);
    if (rc != SQLITE_OK) {
        rc = db_fail(dst, rc, "backup open", err);
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = db_fail(dst, SQLITE_ERROR, "backup", err);
        goto out;
    }
    /* -1: copy every page in one step, under one read snapshot. */
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_DONE) {
        rc = db_fail(dst, rc, "backup step", err);
        goto out;
    }
    rc = DB_OK;
out:
    if (b)
        sqlite3_backup_finish(b);
    sqlite3_close(dst);
    db_conn_put(db, src);
    return rc;
}
