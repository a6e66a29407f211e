/* Stockroom — processing workers: threads that take render jobs from the
 * durable queue in SQLite and make each image's watermarked preview. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "log.h"
#include "storage.h"

#define LEASE_S 300    /* a job held longer is presumed dead */
#define IDLE_MS 2000   /* look at the queue this often anyway */
#define DEFER_S 5      /* a job that found the store down waits this long */
#define RENDER_DEFER 1 /* render(): the store was unavailable, try later */

struct workers {
    struct app *app;
    pthread_t *threads;
    int n;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int pending_wakes;
};

/* The ETag of a rendition: the start of its SHA-256. */
static void
etag_of(const void *data, size_t len, char etag[CAT_ETAG_LEN])
{
    char hex[65];

    blob_sha256_bytes(data, len, hex);
    snprintf(etag, CAT_ETAG_LEN, "%.32s", hex);
}

static int
etag_of_blob(struct app *app, const char *key, char etag[CAT_ETAG_LEN])
{
    char path[1400], hex[65];
    int rc = blob_local(app->blobs, key, path, sizeof path);

    if (rc != BLOB_OK)
        return rc;
    rc = blob_sha256_file(path, hex);
    blob_local_done(app->blobs, key);
    if (rc < 0)
        return -1;
    snprintf(etag, CAT_ETAG_LEN, "%.32s", hex);
    return 0;
}

/* Make the thumbnail again: the upload made it, but a crash may have come
 * between storing the original and storing the thumbnail. */
static int
remake_thumb(struct app *app, const char *src, const char *key, char *why,
             size_t whylen)
{
    struct img_limits lim = {0, 0, 0, app->cfg.decode_deadline_ms};
    struct img_analysis a;
    char err[IMG_ERR_LEN];
    int rc = img_analyse(src, &lim, &a, err);

    if (rc != IMG_OK) {
        snprintf(why, whylen, "thumbnail: %s", err);
        return -1;
    }
    rc = blob_put_bytes(app->blobs, key, a.thumbnail.data, a.thumbnail.len);
    img_analysis_release(&a);
    if (rc < 0)
        snprintf(why, whylen, "thumbnail could not be stored");
    return rc == BLOB_EUNAVAIL ? RENDER_DEFER : rc;
}

/* Read the preview base the upload stored under key into *data (caller
 * frees). -1 when it is absent, unreadable or larger than any base can
 * be; img_preview_from_base() checks the rest. */
static int
read_base(struct app *app, const char *key, void **data, size_t *len)
{
    uint64_t size;
    size_t got = 0;
    char *p = NULL;
    int fd, rc = -1;

    if (blob_open_read(app->blobs, key, &fd, &size) < 0)
        return -1;
    if (size > IMG_BASE_MAX_LEN || !(p = malloc(size ? size : 1)))
        goto out;
    while (got < size) {
        ssize_t n = read(fd, p + got, size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    *data = p;
    *len = got;
    p = NULL;
    rc = 0;
out:
    free(p);
    close(fd);
    return rc;
}

/* The watermarked preview: from the preview base when the upload left
 * one, else (a crash between the steps, an older upload, a damaged base)
 * from the original. 0, or -1 with the reason in why. */
static int
make_preview(struct app *app, const struct cat_image *img, const char *src,
             const char *bkey, struct img_buf *out, char *why, size_t whylen)
{
    char text[256], err[IMG_ERR_LEN];
    void *base = NULL;
    size_t len = 0;
    int rc = IMG_EGENERIC;

    /* The watermark names the store and the contributor. */
    snprintf(text, sizeof text, "Stockroom \xc2\xb7 %s", img->contributor_name);
    if (read_base(app, bkey, &base, &len) == 0) {
        rc = img_preview_from_base(base, len, text,
                                   (uint64_t)img->watermark_seed,
                                   app->cfg.decode_deadline_ms, out, err);
        if (rc != IMG_OK)
            log_warn("image %s: preview base: %s; decoding the original",
                     img->id, err);
        free(base);
    }
    if (rc != IMG_OK &&
        img_preview(src, text, (uint64_t)img->watermark_seed,
                    app->cfg.decode_deadline_ms, out, err) != IMG_OK) {
        snprintf(why, whylen, "preview: %s", err);
        return -1;
    }
    return 0;
}

/* Render one job's image. 0; -1 with the reason in why; or RENDER_DEFER
 * when the blob store could not be reached, which is no fault of the
 * image. */
static int
render(struct app *app, const struct cat_image *img, char thumb[CAT_ETAG_LEN],
       char preview[CAT_ETAG_LEN], char *why, size_t whylen)
{
    char okey[256], tkey[256], pkey[256], bkey[256], src[1400];
    struct img_buf buf = {0};
    int rc, has;

    blob_key_original(img->sha256, okey, sizeof okey);
    blob_key_rendition(img->id, "thumb.jpg", tkey, sizeof tkey);
    blob_key_rendition(img->id, "preview.jpg", pkey, sizeof pkey);
    blob_key_rendition(img->id, "base.raw", bkey, sizeof bkey);
    rc = blob_local(app->blobs, okey, src, sizeof src);
    if (rc == BLOB_EUNAVAIL) {
        snprintf(why, whylen, "the blob store is unavailable");
        return RENDER_DEFER;
    }
    if (rc != BLOB_OK) {
        snprintf(why, whylen,
                 "the upload was interrupted before the file "
                 "was stored: upload it again");
        return -1;
    }
    has = blob_exists(app->blobs, tkey);
    if (has < 0) {
        snprintf(why, whylen, "the blob store is unavailable");
        rc = RENDER_DEFER;
        goto out;
    }
    if (!has && (rc = remake_thumb(app, src, tkey, why, whylen)) != 0)
        goto out;
    rc = etag_of_blob(app, tkey, thumb);
    if (rc != 0) {
        snprintf(why, whylen, "thumbnail unreadable");
        rc = rc == BLOB_EUNAVAIL ? RENDER_DEFER : -1;
        goto out;
    }
    rc = -1;
    if (make_preview(app, img, src, bkey, &buf, why, whylen) < 0)
        goto out;
    rc = blob_put_bytes(app->blobs, pkey, buf.data, buf.len);
    if (rc != BLOB_OK) {
        snprintf(why, whylen, "preview could not be stored");
        rc = rc == BLOB_EUNAVAIL ? RENDER_DEFER : -1;
        goto out;
    }
    /* The base has served: a crash before this line leaves it for the
     * retry, one after it costs the retry a decode of the original. */
    if (blob_remove(app->blobs, bkey) < 0)
        log_warn("image %s: preview base not removed", img->id);
    etag_of(buf.data, buf.len, preview);
    rc = 0;
out:
    img_buf_release(&buf);
    blob_local_done(app->blobs, okey);
    return rc;
}

static void
run_job(struct app *app, const struct cat_job *job)
{
    char err[DB_ERR_LEN], why[512] = "", thumb[CAT_ETAG_LEN] = "";
    char preview[CAT_ETAG_LEN] = "";
    struct cat_image *img = NULL;
    struct timespec t0, t1;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (job->attempts > app->cfg.job_attempts) {
        /* Claimed that often, yet never finished: it stopped the process
         * each time. Give up before it does again. */
        snprintf(why, sizeof why, "processing stopped %d times",
                 job->attempts - 1);
        rc = -1;
    } else if (cat_image_get(app->db, job->image_id, &img, err) != DB_OK) {
        snprintf(why, sizeof why, "image record: %s", err);
        rc = -1;
    } else {
        rc = render(app, img, thumb, preview, why, sizeof why);
    }
    if (rc == 0) {
        rc = cat_job_done(app->db, job->id, thumb, preview,
                          app->cfg.min_keywords, err);
    } else if (rc == RENDER_DEFER) {
        rc = cat_job_defer(app->db, job->id, (int64_t)time(NULL) + DEFER_S, why,
                           err);
    } else {
        rc = cat_job_fail(app->db, job->id, why, app->cfg.job_attempts, err);
        /* Failed for good: nothing will read the upload's base again. */
        if (rc == DB_OK && job->attempts >= app->cfg.job_attempts) {
            char bkey[256];

            blob_key_rendition(job->image_id, "base.raw", bkey, sizeof bkey);
            if (blob_remove(app->blobs, bkey) < 0)
                log_warn("job %s: base.raw not removed", job->id);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (why[0])
        log_warn("job %s image %s attempt %d failed: %s", job->id,
                 job->image_id, job->attempts, why);
    else
        log_info("job %s image %s rendered in %.0f ms", job->id, job->image_id,
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    if (rc != DB_OK)
        log_error("job %s: recording the outcome: %s", job->id, err);
    cat_image_free(img);
}

static void *
worker_main(void *arg)
{
    struct workers *w = arg;
    struct app *app = w->app;

    for (;;) {
        struct cat_job job;
        char err[DB_ERR_LEN];
        int rc;

        pthread_mutex_lock(&w->lock);
        if (w->stopping) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        pthread_mutex_unlock(&w->lock);
        rc = cat_job_claim(app->db, (int64_t)time(NULL), LEASE_S, &job, err);
        if (rc == DB_OK) {
            run_job(app, &job);
            continue;
        }
        if (rc != DB_ENOTFOUND)
            log_error("job queue: %s", err);
        pthread_mutex_lock(&w->lock);
        if (!w->stopping && !w->pending_wakes) {
            struct timespec until;

            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_MS / 1000;
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        }
        if (w->pending_wakes)
            w->pending_wakes--;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

int
workers_start(struct app *app)
{
    struct workers *w = calloc(1, sizeof *w);
    char err[DB_ERR_LEN];
    int n;

    if (!w)
        return -1;
    n = cat_jobs_reset(app->db, err);
    if (n < 0) {
        log_error("job queue reset: %s", err);
        free(w);
        return -1;
    }
    if (n > 0)
        log_info("%d interrupted job(s) queued again", n);
    w->app = app;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->threads = calloc((size_t)app->cfg.workers, sizeof *w->threads);
    if (!w->threads) {
        free(w);
        return -1;
    }
    for (w->n = 0; w->n < app->cfg.workers; w->n++) {
        if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0)
            break;
    }
    app->workers = w;
    return w->n > 0 ? 0 : -1;
}

void
workers_wake(struct app *app)
{
    struct workers *w = app->workers;

    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->pending_wakes++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void
workers_stop(struct app *app)
{
    struct workers *w = app->workers;

    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    /* A job in progress finishes; its lease would bring it back anyway. */
    for (int i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
    app->workers = NULL;
}
