/* Stockroom — renditions: thumbnails and watermarked previews, from the
 * in-memory cache when public, with ETags and long-lived caching. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "blob.h"
#include "catalog.h"
#include "parse.h"
#include "rcache.h"

/* A public rendition in memory: answer from it, with 304 when the client
 * has it. */
static void
send_cached(struct srv_req *r, struct rcache_entry *e)
{
    const char *inm = srv_req_header(r, "If-None-Match");

    srv_header(r, "ETag", rcache_etag(e));
    /* Renditions never change under the same URL: a year, publicly. */
    srv_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    if (inm && srv_parse_etag_matches(inm, rcache_etag(e))) {
        rcache_unref(e);
        srv_empty(r, 304);
        return;
    }
    srv_cached(r, 200, e, "image/jpeg");
}

/* Keep a public rendition open in the cache; the entry, or NULL. */
static struct rcache_entry *
cache_rendition(struct app *app, const char *ckey, const char *key,
                const char *etag)
{
    uint64_t size;
    int fd;

    if (!app->rcache || !ckey[0] ||
        blob_open_read(app->blobs, key, &fd, &size) < 0)
        return NULL;
    rcache_put(app->rcache, ckey, etag, fd, (size_t)size);
    return rcache_get(app->rcache, ckey);
}

static void
send_rendition(struct srv_req *r, const char *name, const char *file)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    struct rcache_entry *e = NULL;
    struct cat_image *img = NULL;
    const char *etag_src, *inm;
    char key[256], ckey[64] = "", etag[96];
    uint64_t size;
    int fd;

    /* The hot path: a public rendition already in memory. */
    if (strlen(id) < CAT_ID_LEN && app->rcache) {
        snprintf(ckey, sizeof ckey, "%s/%s", id, file);
        e = rcache_get(app->rcache, ckey);
        if (e) {
            send_cached(r, e);
            return;
        }
    }
    img = images_visible(r, id);
    if (!img)
        return;
    etag_src = !strcmp(name, "thumbnail") ? img->thumb_etag : img->preview_etag;
    if (!etag_src[0]) {
        srv_error(r, 404, "not_ready",
                  "This image is still being "
                  "processed.");
        goto out;
    }
    snprintf(etag, sizeof etag, "\"%s\"", etag_src);
    blob_key_rendition(img->id, file, key, sizeof key);
    /* Approved renditions never change and are everyone's to see. */
    if (img->status == DB_IMG_APPROVED &&
        (e = cache_rendition(app, ckey, key, etag))) {
        send_cached(r, e);
        goto out;
    }
    srv_header(r, "ETag", etag);
    srv_header(r, "Cache-Control",
               img->status == DB_IMG_APPROVED
                   ? "public, max-age=31536000, immutable"
                   : "private, max-age=3600");
    inm = srv_req_header(r, "If-None-Match");
    if (inm && srv_parse_etag_matches(inm, etag)) {
        srv_empty(r, 304);
        goto out;
    }
    if (srv_reply_blob(r, blob_open_read(app->blobs, key, &fd, &size),
                       "rendition") < 0)
        goto out;
    srv_fd(r, 200, fd, size, "image/jpeg");
out:
    cat_image_free(img);
}

void
renditions_thumbnail(struct srv_req *r)
{
    send_rendition(r, "thumbnail", "thumb.jpg");
}

void
renditions_preview(struct srv_req *r)
{
    send_rendition(r, "preview", "preview.jpg");
}
