/* Stockroom fuzz targets: one small catalogue, made once per process in a
 * temporary directory and removed at exit, for the targets that reach the
 * parsers of db/ through its API. */
#ifndef STOCKROOM_FUZZ_DBFIX_H
#define STOCKROOM_FUZZ_DBFIX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "catalog.h"
#include "ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    char dir[64], path[128];
    struct db *db;
    struct acc_user alice, rev;
} fx;

static void
fx_check(int rc, const char *what, const char *err)
{
    if (rc != 0) {
        fprintf(stderr, "fuzz fixture: %s: %d %s\n", what, rc, err);
        abort();
    }
}

static void
fx_remove(void)
{
    static const char *const tails[] = {"", "-wal", "-shm"};
    char p[160];

    db_close(fx.db);
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(p, sizeof p, "%s%s", fx.path, tails[i]);
        unlink(p);
    }
    rmdir(fx.dir);
}

/* An approved image, so that searches have words and terms to find. */
static void
fx_image(int n, const char *title, const char *kw)
{
    struct cat_new_image in;
    struct cat_job job;
    char sha[65], id[CAT_ID_LEN], err[DB_ERR_LEN] = "";

    memset(&in, 0, sizeof in);
    snprintf(sha, sizeof sha, "%064x", n);
    in.contributor_id = fx.alice.id;
    in.title = title;
    in.description = "a description";
    in.keywords = kw;
    in.width = 6000;
    in.height = 4000;
    in.format = "jpeg";
    in.mime = "image/jpeg";
    in.file_size = 1234567;
    in.sha256 = sha;
    in.colour = "blue";
    for (int v = 0; v < 8; v++)
        in.dhash[v] = 0x9e3779b97f4a7c15ULL * (uint64_t)(n * 8 + v + 1);
    in.watermark_seed = 7;
    fx_check(cat_image_create(fx.db, &in, id, err), "create", err);
    fx_check(cat_job_release(fx.db, id, err), "release", err);
    while (cat_job_claim(fx.db, 1000, 60, &job, err) == 0)
        fx_check(cat_job_done(fx.db, job.id, "t1", "p1", err), "done", err);
    fx_check(cat_review_decide(fx.db, id, fx.rev.id, 1, NULL, NULL, err),
             "approve", err);
}

static struct db *
fx_db(void)
{
    char err[DB_ERR_LEN] = "";

    if (fx.db)
        return fx.db;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/fuzz_db.XXXXXX");
    if (!mkdtemp(fx.dir))
        abort();
    snprintf(fx.path, sizeof fx.path, "%s/db.sqlite", fx.dir);
    fx_check(db_open(fx.path, &fx.db, err), "open", err);
    atexit(fx_remove);
    fx_check(acc_user_create(fx.db, "alice@example.com", "Alice", "x",
                             ACC_ROLE_CONTRIBUTOR, &fx.alice, err),
             "alice", err);
    fx_check(acc_user_create(fx.db, "rev@example.com", "Rev", "x",
                             ACC_ROLE_REVIEWER, &fx.rev, err),
             "rev", err);
    fx_image(1, "Red bicycle by a canal", "bicycle,canal,red,city");
    fx_image(2, "Bicycles at dawn", "bicycle,dawn,\"quoted\",near");
    fx_image(3, "Ünïcode café", "café,naïve,東京");
    return fx.db;
}

/* The input as a C string: up to its first NUL, as HTTP hands text on. */
static char *
fx_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
