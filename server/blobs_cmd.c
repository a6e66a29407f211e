/* Stockroom — `stockroom blobs`: move a local store into a bucket, check
 * that every blob the database names is there, and find the ones nothing
 * names. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "blob.h"
#include "catalog.h"
#include "storage.h"

#define EXIT_USAGE 2

/* ---- migrate ------------------------------------------------------------ */

struct migrate {
    struct blob *src, *dst;
    uint64_t total, done_n, copied, skipped, failed, bytes;
    int tty;
    time_t last_draw;
};

static int
count_one(const char *key, uint64_t size, int64_t mtime, void *arg)
{
    struct migrate *m = arg;

    (void)key;
    (void)size;
    (void)mtime;
    m->total++;
    return 0;
}

static void
draw(struct migrate *m, int last)
{
    time_t now = time(NULL);
    int width = 30, fill;

    if (!m->tty || (!last && now == m->last_draw))
        return;
    m->last_draw = now;
    fill = m->total ? (int)(m->done_n * (uint64_t)width / m->total) : width;
    fprintf(stderr, "\r[%.*s%*s] %llu/%llu", fill,
            "##############################", width - fill, "",
            (unsigned long long)m->done_n, (unsigned long long)m->total);
    if (last)
        fputc('\n', stderr);
}

/* Copy one object unless the bucket has it with the same MD5: so a second
 * run, or one after an interruption, copies only what is missing. */
static int
migrate_one(const char *key, uint64_t size, int64_t mtime, void *arg)
{
    struct migrate *m = arg;
    char have[80] = "", want[80] = "", path[1400];
    uint64_t dsize = 0;
    int rc;

    (void)mtime;
    m->done_n++;
    if (blob_stat(m->dst, key, &dsize, have) == BLOB_OK && dsize == size &&
        blob_stat(m->src, key, &size, want) == BLOB_OK && have[0] &&
        !strcmp(have, want)) {
        m->skipped++;
        draw(m, 0);
        return 0;
    }
    rc = blob_local(m->src, key, path, sizeof path);
    if (rc == BLOB_OK) {
        rc = blob_put_copy(m->dst, key, path);
        blob_local_done(m->src, key);
    }
    if (rc == BLOB_OK) {
        m->copied++;
        m->bytes += size;
    } else {
        m->failed++;
        fprintf(stderr, "%sstockroom: %s not copied\n", m->tty ? "\n" : "",
                key);
    }
    draw(m, 0);
    return rc == BLOB_EUNAVAIL ? rc : 0;
}

static int
blobs_migrate(struct app *app, const char *to)
{
    struct migrate m = {0};
    char err[BLOB_ERR_LEN];
    int rc;

    if (strcmp(to, "s3") != 0) {
        fprintf(stderr, "usage: stockroom blobs migrate --to s3 [flags]\n");
        return EXIT_USAGE;
    }
    rc = blob_open(&app->cfg, "file", &m.src, err);
    if (rc == BLOB_OK)
        rc = blob_open(&app->cfg, "s3", &m.dst, err);
    if (rc != BLOB_OK) {
        fprintf(stderr, "stockroom: %s\n", err);
        blob_close(m.src);
        return rc == BLOB_ECONFIG ? EXIT_USAGE : 1;
    }
    m.tty = isatty(2);
    blob_list(m.src, "", count_one, &m);
    rc = blob_list(m.src, "", migrate_one, &m);
    draw(&m, 1);
    printf("%llu blobs: %llu copied (%llu bytes), %llu already there, "
           "%llu failed%s\n",
           (unsigned long long)m.total, (unsigned long long)m.copied,
           (unsigned long long)m.bytes, (unsigned long long)m.skipped,
           (unsigned long long)m.failed,
           rc == BLOB_EUNAVAIL ? "; the store went away: run it again" : "");
    blob_close(m.src);
    blob_close(m.dst);
    return rc == 0 && m.failed == 0 ? 0 : 1;
}

/* ---- verify ------------------------------------------------------------- */

struct verify {
    struct blob *b;
    int deep;
    uint64_t checked, missing, wrong;
};

static void
ref_key(const struct cat_blob_ref *ref, char *key, size_t len)
{
    switch (ref->kind) {
    case CAT_REF_ORIGINAL:
        blob_key_original(ref->sha256, key, len);
        break;
    case CAT_REF_THUMB:
        blob_key_rendition(ref->id, "thumb.jpg", key, len);
        break;
    case CAT_REF_PREVIEW:
        blob_key_rendition(ref->id, "preview.jpg", key, len);
        break;
    case CAT_REF_LICENSED:
        blob_key_licensed(ref->id, key, len);
        break;
    }
}

static int
verify_one(const struct cat_blob_ref *ref, void *arg)
{
    struct verify *v = arg;
    char key[300], path[1400], sha[65];
    uint64_t size = 0;
    int rc;

    ref_key(ref, key, sizeof key);
    v->checked++;
    rc = blob_stat(v->b, key, &size, NULL);
    if (rc == BLOB_EUNAVAIL)
        return rc;
    if (rc != BLOB_OK) {
        v->missing++;
        printf("missing %s\n", key);
        return 0;
    }
    if (ref->size >= 0 && (uint64_t)ref->size != size) {
        v->wrong++;
        printf("wrong size %s: %llu bytes, expected %lld\n", key,
               (unsigned long long)size, (long long)ref->size);
        return 0;
    }
    if (!v->deep)
        return 0;
    rc = blob_local(v->b, key, path, sizeof path);
    if (rc != BLOB_OK)
        return rc == BLOB_EUNAVAIL ? rc : 0;
    rc = blob_sha256_file(path, sha);
    blob_local_done(v->b, key);
    /* Renditions are named by their ETag, the digest's first 32 digits. */
    if (rc < 0 || strncmp(sha, ref->sha256, strlen(ref->sha256)) != 0) {
        v->wrong++;
        printf("wrong content %s\n", key);
    }
    return 0;
}

static int
blobs_verify(struct app *app, int deep)
{
    struct verify v = {app->blobs, deep, 0, 0, 0};
    char err[DB_ERR_LEN];
    int rc = cat_blob_refs(app->db, verify_one, &v, err);

    if (rc == BLOB_EUNAVAIL) {
        fprintf(stderr, "stockroom: the blob store is unavailable\n");
        return 1;
    }
    if (rc != DB_OK) {
        fprintf(stderr, "stockroom: %s\n", err);
        return 1;
    }
    printf("%llu blobs checked%s: %llu missing, %llu wrong\n",
           (unsigned long long)v.checked, deep ? " in depth" : "",
           (unsigned long long)v.missing, (unsigned long long)v.wrong);
    return v.missing || v.wrong ? 1 : 0;
}

/* ---- gc ----------------------------------------------------------------- */

/* The named keys, sorted, for bsearch. */
struct names {
    char **keys;
    size_t n, cap;
};

static int
name_one(const struct cat_blob_ref *ref, void *arg)
{
    struct names *ns = arg;
    char key[300];

    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 1024;
        char **k = realloc(ns->keys, cap * sizeof *k);

        if (!k)
            return DB_EGENERIC;
        ns->keys = k;
        ns->cap = cap;
    }
    ref_key(ref, key, sizeof key);
    if (!(ns->keys[ns->n] = strdup(key)))
        return DB_EGENERIC;
    ns->n++;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct gc {
    struct app *app;
    struct names *ns;
    int delete;
    int64_t before; /* only objects last changed before this */
    uint64_t found, bytes, removed;
};

/* Renditions are named by their image as a whole: the thumbnail exists
 * before its ETag is recorded, and the base only while the job runs. */
static int
image_names(struct app *app, const char *key)
{
    struct cat_image *img = NULL;
    char id[64], err[DB_ERR_LEN];
    const char *slash;
    int found;

    if (strncmp(key, "renditions/", 11) != 0)
        return 0;
    slash = strchr(key + 11, '/');
    if (!slash || slash - key - 11 >= (long)sizeof id)
        return 0;
    snprintf(id, sizeof id, "%.*s", (int)(slash - key - 11), key + 11);
    found = cat_image_get(app->db, id, &img, err) == DB_OK;
    cat_image_free(img);
    return found;
}

static int
gc_one(const char *key, uint64_t size, int64_t mtime, void *arg)
{
    struct gc *g = arg;
    const char *k = key;

    if (mtime >= g->before ||
        (g->ns->n > 0 &&
         bsearch(&k, g->ns->keys, g->ns->n, sizeof *g->ns->keys, cmp_str)) ||
        image_names(g->app, key))
        return 0;
    g->found++;
    g->bytes += size;
    if (g->delete &&blob_remove(g->app->blobs, key) == BLOB_OK) {
        g->removed++;
        printf("removed %s\n", key);
    } else {
        printf("unnamed %s (%llu bytes)\n", key, (unsigned long long)size);
    }
    return 0;
}

static int
blobs_gc(struct app *app, int delete, long hours)
{
    struct names ns = {0};
    /* --older-than 0: every object, however new. */
    struct gc g = {
        app,    &ns,
        delete, hours > 0 ? (int64_t)time(NULL) - hours * 3600 : INT64_MAX,
        0,      0,
        0};
    char err[DB_ERR_LEN] = "";
    int rc;

    /* Uploads store the original before the row that names it, so an
     * object younger than a running upload is not an orphan yet: the
     * default age keeps those. */
    rc = cat_blob_refs(app->db, name_one, &ns, err);
    if (rc == DB_OK) {
        if (ns.n > 0)
            qsort(ns.keys, ns.n, sizeof *ns.keys, cmp_str);
        rc = blob_list(app->blobs, "", gc_one, &g);
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.keys[i]);
    free(ns.keys);
    if (rc != 0) {
        fprintf(stderr, "stockroom: gc stopped: %s\n",
                rc == BLOB_EUNAVAIL ? "the blob store is unavailable" : err);
        return 1;
    }
    printf("%llu unnamed blobs (%llu bytes)%s\n", (unsigned long long)g.found,
           (unsigned long long)g.bytes,
           delete ? ", removed" : "; --delete removes them");
    return 0;
}

int
cmd_blobs(struct app *app, const char *sub, int argc, char **argv)
{
    const char *to = NULL;
    int deep = 0, delete = 0, rc;
    long hours = 1;

    for (int i = 0; i < argc; i++) {
        int used = 0;
        char err[256];

        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to = argv[++i];
        } else if (!strcmp(argv[i], "--deep")) {
            deep = 1;
        } else if (!strcmp(argv[i], "--delete")) {
            delete = 1;
        } else if (!strcmp(argv[i], "--older-than") && i + 1 < argc) {
            hours = strtol(argv[++i], NULL, 10);
        } else if (cfg_from_args(&app->cfg, argc - i, argv + i, &used, err,
                                 sizeof err) < 0 ||
                   used == 0) {
            fprintf(stderr, "stockroom: bad argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        } else {
            i += used - 1;
        }
    }
    if (!strcmp(sub, "migrate")) {
        if (!to) {
            fprintf(stderr, "usage: stockroom blobs migrate --to s3\n");
            return EXIT_USAGE;
        }
        /* The database is not needed: every file of the store goes. */
        return blobs_migrate(app, to);
    }
    if (strcmp(sub, "verify") && strcmp(sub, "gc")) {
        fprintf(stderr, "usage: stockroom blobs migrate|verify|gc\n");
        return EXIT_USAGE;
    }
    rc = app_open(app);
    if (rc < 0) {
        app_close(app);
        return rc == APP_ECONFIG ? EXIT_USAGE : 1;
    }
    rc = !strcmp(sub, "verify") ? blobs_verify(app, deep)
                                : blobs_gc(app, delete, hours);
    app_close(app);
    return rc;
}
