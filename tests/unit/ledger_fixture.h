/* Stockroom — the fixture every ledger unit test shares: a fresh database
 * with four users, raw SQL access, buying, selling and racing helpers. */
#ifndef STOCKROOM_LEDGER_FIXTURE_H
#define STOCKROOM_LEDGER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "accounts.h"
#include "db.h"
#include "ledger.h"

#define DAY 86400

struct fx {
    char dir[64];
    char path[96];
    struct db *db;
    char buyer[ACC_ID_LEN];
    char buyer2[ACC_ID_LEN];
    char contrib[ACC_ID_LEN];
    char admin[ACC_ID_LEN];
};

static char err[DB_ERR_LEN];
static int key_seq;

static inline void
user(struct fx *f, const char *email, char id[ACC_ID_LEN])
{
    struct acc_user u;

    assert_int_equal(acc_user_create(f->db, email, "Test", "x",
                                     ACC_ROLE_BUYER | ACC_ROLE_CONTRIBUTOR, &u,
                                     err),
                     DB_OK);
    snprintf(id, ACC_ID_LEN, "%s", u.id);
}

static inline int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "%s/ledgerXXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/db.sqlite", f->dir);
    assert_int_equal(db_open(f->path, &f->db, err), DB_OK);
    user(f, "buyer@example.com", f->buyer);
    user(f, "buyer2@example.com", f->buyer2);
    user(f, "contrib@example.com", f->contrib);
    user(f, "admin@example.com", f->admin);
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    db_close(f->db);
    snprintf(p, sizeof p, "%s/db.sqlite-wal", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/db.sqlite-shm", f->dir);
    unlink(p);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The books must hold after every scenario. */
static inline void
verify_ok(struct fx *f)
{
    char *report = NULL;
    int rc = ledger_verify(f->db, &report, err);

    if (rc != DB_OK)
        fprintf(stderr, "%s\n%s\n", err, report ? report : "(no report)");
    assert_int_equal(rc, DB_OK);
    assert_non_null(strstr(report, "inv. 14 ok"));
    free(report);
}

/* A raw connection to the file, as an attacker or a careless tool would
 * have; recursive triggers as every Stockroom connection sets them. */
static inline sqlite3 *
raw_open(struct fx *f, int recursive)
{
    sqlite3 *c = NULL;

    assert_int_equal(sqlite3_open(f->path, &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 10000);
    assert_int_equal(sqlite3_exec(c,
                                  recursive ? "PRAGMA recursive_triggers=ON"
                                            : "PRAGMA recursive_triggers=OFF",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return c;
}

static inline int64_t
raw_int(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A text digest of a table's rows, to see that a refused write changed
 * nothing. Caller frees. */
static inline char *
raw_text(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *s;

    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    s = strdup(sqlite3_column_text(st, 0)
                   ? (const char *)sqlite3_column_text(st, 0)
                   : "");
    sqlite3_finalize(st);
    return s;
}

static inline int64_t
count(struct fx *f, const char *sql)
{
    sqlite3 *c = raw_open(f, 1);
    int64_t v = raw_int(c, sql);

    sqlite3_close(c);
    return v;
}

static inline void
buy(struct fx *f, const char *who, int64_t credits, int64_t price,
    struct ledger_purchase *p)
{
    char key[32];
    struct ledger_purchase tmp;

    snprintf(key, sizeof key, "buy-%d", key_seq++);
    assert_int_equal(ledger_purchase_create(f->db, who, key, "h", credits,
                                            price, "test", &tmp, err),
                     DB_OK);
    assert_int_equal(
        ledger_purchase_settle(f->db, tmp.id, "ref", p ? p : &tmp, err), DB_OK);
}

static inline int
sell(struct fx *f, const char *buyer, const char *contrib, const char *image,
     int64_t credits, const struct ledger_tier *tiers, size_t n_tiers,
     struct ledger_licence *l)
{
    char key[32];
    struct ledger_licence tmp;
    struct ledger_licence_req r = {
        .buyer_id = buyer,
        .image_id = image,
        .contributor_id = contrib,
        .size = "S",
        .type = "standard",
        .credits = credits,
        .idem_key = key,
        .request_hash = "h",
        .tiers = tiers,
        .n_tiers = n_tiers,
    };

    snprintf(key, sizeof key, "lic-%d", key_seq++);
    return ledger_licence_create(f->db, &r, l ? l : &tmp, err);
}

static inline int64_t
wallet(struct fx *f, const char *who)
{
    int64_t w = -1;

    assert_int_equal(ledger_wallet(f->db, who, &w, err), DB_OK);
    return w;
}

static inline int64_t
value(int64_t price, int64_t credits, int64_t used, int64_t n)
{
    return price * (used + n) / credits - price * used / credits;
}

struct race {
    struct fx *f;
    const char *key;     /* NULL: a key per thread */
    const char *hash;    /* NULL: "h" */
    const char *contrib; /* NULL: the fixture's contributor */
    const char *buyer;   /* NULL: the fixture's buyer */
    int n;
    int rc;
    struct ledger_licence l;
    int64_t amount;
};

static inline void *
race_licence(void *arg)
{
    struct race *r = arg;
    char key[32], e[DB_ERR_LEN];
    struct ledger_licence_req q = {
        .buyer_id = r->buyer ? r->buyer : r->f->buyer,
        .image_id = "race",
        .contributor_id = r->contrib ? r->contrib : r->f->contrib,
        .size = "S",
        .type = "standard",
        .credits = 1,
        .idem_key = r->key ? r->key : key,
        .request_hash = r->hash ? r->hash : "h",
    };

    snprintf(key, sizeof key, "race-%d", r->n);
    r->rc = ledger_licence_create(r->f->db, &q, &r->l, e);
    return NULL;
}

#endif
