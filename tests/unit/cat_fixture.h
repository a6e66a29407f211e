/* Stockroom — the fixture of the catalogue's unit tests: a fresh database
 * in its own temporary directory with two contributors and a reviewer, and
 * helpers to upload, render, approve and search. */
#ifndef STOCKROOM_CAT_FIXTURE_H
#define STOCKROOM_CAT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "catalog.h"
#include "dbint.h"

struct fx {
    char dir[64];
    char path[128];
    struct db *db;
    struct acc_user alice, bob, rev;
    uint64_t rng;
    int shas;
};

static char err[DB_ERR_LEN];

static inline uint64_t
rnd(struct fx *f)
{
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_catalog.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/db.sqlite", f->dir);
    assert_int_equal(db_open(f->path, &f->db, err), 0);
    assert_int_equal(acc_user_create(f->db, "alice@example.com", "Alice", "x",
                                     ACC_ROLE_CONTRIBUTOR, &f->alice, err),
                     0);
    assert_int_equal(acc_user_create(f->db, "bob@example.com", "Bob", "x",
                                     ACC_ROLE_CONTRIBUTOR, &f->bob, err),
                     0);
    assert_int_equal(acc_user_create(f->db, "rev@example.com", "Rev", "x",
                                     ACC_ROLE_REVIEWER, &f->rev, err),
                     0);
    f->rng = 42;
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    db_close(f->db);
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A plausible upload: random hashes unless dhash0 is given (non-zero). */
static inline void
new_image(struct fx *f, struct cat_new_image *in, char sha[65],
          const char *owner, const char *title, const char *desc,
          const char *kw, uint64_t dhash0)
{
    memset(in, 0, sizeof *in);
    snprintf(sha, 65, "%064x", ++f->shas);
    in->contributor_id = owner;
    in->title = title;
    in->description = desc;
    in->keywords = kw;
    in->width = 6000;
    in->height = 4000;
    in->format = "jpeg";
    in->mime = "image/jpeg";
    in->file_size = 1234567;
    in->sha256 = sha;
    in->colour = "blue";
    for (int v = 0; v < 8; v++)
        in->dhash[v] = rnd(f);
    if (dhash0)
        in->dhash[0] = dhash0;
    in->watermark_seed = 7;
}

static inline void
create(struct fx *f, const char *owner, const char *title, const char *desc,
       const char *kw, char id[CAT_ID_LEN])
{
    struct cat_new_image in;
    char sha[65];

    new_image(f, &in, sha, owner, title, desc, kw, 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    /* As the server does once the original is stored. */
    assert_int_equal(cat_job_release(f->db, id, err), 0);
}

/* Sales are counted by the ledger's triggers; here the count is set as
 * those would leave it. */
static inline void
set_sold(struct fx *f, const char *id, int n)
{
    sqlite3 *c = db_conn_get(f->db);
    char sql[1024];

    snprintf(sql, sizeof sql,
             "UPDATE images SET licences_sold = %d"
             " WHERE id = '%s'",
             n, id);
    assert_int_equal(db_exec(c, sql, err), 0);
    db_conn_put(f->db, c);
}

/* Run every queued render job to done. */
static inline void
render_all(struct fx *f)
{
    struct cat_job job;

    /* Uploads made straight through cat_image_create are still held:
     * release them all, as the server does once their files are stored. */
    assert_true(cat_jobs_reset(f->db, err) >= 0);
    while (cat_job_claim(f->db, 1000, 60, &job, err) == 0)
        assert_int_equal(cat_job_done(f->db, job.id, "t1", "p1", 0, err), 0);
}

static inline void
approve(struct fx *f, const char *id)
{
    assert_int_equal(
        cat_review_decide(f->db, id, f->rev.id, 1, NULL, NULL, err), 0);
}

/* Upload, render and approve; returns through id. */
static inline void
approved(struct fx *f, const char *owner, const char *title, const char *desc,
         const char *kw, char id[CAT_ID_LEN])
{
    create(f, owner, title, desc, kw, id);
    render_all(f);
    approve(f, id);
}

static inline int
search_n(struct fx *f, const char *text, struct cat_list *out)
{
    struct cat_query q = {.text = text};

    assert_int_equal(cat_search(f->db, &q, out, err), 0);
    return out->n;
}

static inline int
found(const struct cat_list *l, const char *id)
{
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].id, id) == 0)
            return 1;
    }
    return 0;
}

static inline void
sql(struct fx *f, const char *s)
{
    sqlite3 *c = db_conn_get(f->db);

    assert_int_equal(db_exec(c, s, err), 0);
    db_conn_put(f->db, c);
}

#endif
