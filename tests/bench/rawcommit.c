/* rawcommit: the reference for the licence benchmark: durable single-row
 * commits with plain SQLite, as fast as the disk allows. WAL,
 * synchronous=FULL, one INSERT of a licence-sized row per BEGIN IMMEDIATE
 * ... COMMIT, CONC threads with a connection each (the same busy timeout
 * as db/db.c).
 *
 *   rawcommit DBFILE CONC PER_THREAD
 *
 * Prints ops, ops_per_s, p50_ms, p99_ms, max_ms like the HTTP client. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include <unistd.h>

#include "bench.h"

static const char *path;
static int per_thread, errors;
static double *lat;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *
run(void *arg)
{
    int index = (int)(intptr_t)arg;
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(c, 10000);
    if (sqlite3_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c,
                           "INSERT INTO licences(id, buyer_id, image_id,"
                           " size, type, credits, idem_key, created_at)"
                           " VALUES (?1, 'u0123456789abcdef',"
                           " 'i0123456789abcdef', 'S', 'standard', 1, ?2,"
                           " unixepoch())",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < per_thread; i++) {
        char id[64], key[64];
        double t = bench_now();
        int ok;

        snprintf(id, sizeof id, "l%d-%08d-%08d", (int)getpid(), index, i);
        snprintf(key, sizeof key, "raw-%d-%d-%d", (int)getpid(), index, i);
        ok = sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_reset(st);
            ok = sqlite3_exec(c, ok ? "COMMIT" : "ROLLBACK", NULL, NULL,
                              NULL) == SQLITE_OK &&
                 ok;
        }
        lat[index * per_thread + i] = (bench_now() - t) * 1000;
        if (!ok) {
            pthread_mutex_lock(&lock);
            if (!errors++)
                fprintf(stderr, "rawcommit: %s\n", sqlite3_errmsg(c));
            pthread_mutex_unlock(&lock);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(c);
    return NULL;
fail:
    pthread_mutex_lock(&lock);
    errors += per_thread;
    fprintf(stderr, "rawcommit: %s\n", c ? sqlite3_errmsg(c) : "open");
    pthread_mutex_unlock(&lock);
    sqlite3_finalize(st);
    sqlite3_close(c);
    return NULL;
}

int
main(int argc, char **argv)
{
    pthread_t th[64];
    sqlite3 *c = NULL;
    int conc, n;
    double t0, wall;

    if (argc != 4) {
        fprintf(stderr, "usage: rawcommit DBFILE CONC PER_THREAD\n");
        return 2;
    }
    path = argv[1];
    conc = atoi(argv[2]);
    per_thread = atoi(argv[3]);
    if (conc < 1 || conc > 64 || per_thread < 1)
        return 2;
    if (sqlite3_open(path, &c) != SQLITE_OK ||
        sqlite3_exec(c,
                     "PRAGMA journal_mode=WAL;"
                     "CREATE TABLE IF NOT EXISTS licences(id TEXT PRIMARY KEY,"
                     " buyer_id TEXT NOT NULL, image_id TEXT NOT NULL,"
                     " size TEXT NOT NULL, type TEXT NOT NULL,"
                     " credits INTEGER NOT NULL, idem_key TEXT NOT NULL UNIQUE,"
                     " created_at INTEGER NOT NULL) STRICT",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "rawcommit: %s\n", sqlite3_errmsg(c));
        return 1;
    }
    sqlite3_close(c);
    n = conc * per_thread;
    lat = calloc((size_t)n, sizeof *lat);
    t0 = bench_now();
    for (int i = 0; i < conc; i++)
        pthread_create(&th[i], NULL, run, (void *)(intptr_t)i);
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    wall = bench_now() - t0;
    printf("ops=%d errors=%d wall_s=%.3f ops_per_s=%.1f p50_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f\n",
           n, errors, wall, n / wall, bench_pct(lat, n, 50),
           bench_pct(lat, n, 99), bench_pct(lat, n, 100));
    return errors ? 1 : 0;
}
