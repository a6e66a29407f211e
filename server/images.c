/* Stockroom — images: upload and ingest, the image record, editing, and
 * a contributor's own list. */
#include <fcntl.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "text.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "log.h"

/* Licensed sizes by long edge; XL is the original's pixels. */
static const struct {
    const char *name;
    int edge;
} sizes[] = {
    {"S", 1024},
    {"M", 2048},
    {"L", 4096},
    {"XL", 0},
};

/* ---- JSON views ------------------------------------------------------- */

static json_t *
keywords_json(const char *csv)
{
    json_t *a = json_array();
    const char *p = csv;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p = end ? end + 1 : NULL;
    }
    return a;
}

static json_t *
url_or_null(const char *id, const char *name, const char *etag)
{
    char url[128];

    if (!etag[0])
        return json_null();
    snprintf(url, sizeof url, "/images/%s/%s", id, name);
    return json_string(url);
}

/* The sizes on offer: only those not larger than the original. */
json_t *
images_sizes_json(struct app *app, int width, int height)
{
    json_t *a = json_array();
    int longest = width > height ? width : height;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int edge = sizes[i].edge ? sizes[i].edge : longest;
        int64_t w, h;

        if (edge > longest || longest <= 0)
            continue;
        /* Integer rounding of the scaled short side, as libvips does. */
        w = ((int64_t)width * edge * 2 + longest) / (2 * (int64_t)longest);
        h = ((int64_t)height * edge * 2 + longest) / (2 * (int64_t)longest);
        json_array_append_new(
            a,
            json_pack("{s:s,s:I,s:I,s:I,s:I}", "name", sizes[i].name, "width",
                      (json_int_t)(w ? w : 1), "height",
                      (json_int_t)(h ? h : 1), "credits",
                      (json_int_t)app->cfg.size_credits[i], "extended_credits",
                      (json_int_t)(app->cfg.size_credits[i] +
                                   app->cfg.extended_credits)));
    }
    return a;
}

/* Long edge of a named size for an image, or -1 if not on offer. */
int
images_size_edge(const char *name, int width, int height, int *index)
{
    int longest = width > height ? width : height;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (strcmp(name, sizes[i].name) != 0)
            continue;
        if (sizes[i].edge > longest)
            return -1;
        *index = (int)i;
        return sizes[i].edge;
    }
    return -1;
}

/* The search filter's rule: within 2% is square. */
static const char *
orientation(int w, int h)
{
    int longest = w > h ? w : h;

    if ((int64_t)abs(w - h) * 50 <= longest)
        return "square";
    return w > h ? "landscape" : "portrait";
}

/* The image as its page shows it; full adds what only its owner and the
 * reviewers see. */
json_t *
images_json(struct app *app, const struct cat_image *img, int full)
{
    char created[32], contrib_url[96];
    json_t *j;

    app_iso_time(img->created_at, created);
    snprintf(contrib_url, sizeof contrib_url, "/api/v1/contributors/%s",
             img->contributor_id);
    j = json_pack(
        "{s:s,s:s,s:s,s:o,s:s,s:i,s:i,s:s,s:s,s:{s:s,s:s,s:s},"
        "s:o,s:o,s:o,s:s,s:I}",
        "id", img->id, "title", img->title, "description", img->description,
        "keywords", keywords_json(img->keywords), "status",
        db_status_img_str(img->status), "width", img->width, "height",
        img->height, "orientation", orientation(img->width, img->height),
        "colour", img->colour, "contributor", "id", img->contributor_id, "name",
        img->contributor_name, "url", contrib_url, "thumbnail_url",
        url_or_null(img->id, "thumbnail.jpg", img->thumb_etag), "preview_url",
        url_or_null(img->id, "preview.jpg", img->preview_etag), "sizes",
        images_sizes_json(app, img->width, img->height), "created_at", created,
        "licences_sold", (json_int_t)img->licences_sold);
    if (!j)
        return NULL;
    if (full) {
        json_object_set_new(j, "format", json_string(img->format));
        json_object_set_new(j, "file_size", json_integer(img->file_size));
        json_object_set_new(j, "camera_make", json_string(img->camera_make));
        json_object_set_new(j, "camera_model", json_string(img->camera_model));
        json_object_set_new(j, "date_taken", json_string(img->date_taken));
        json_object_set_new(j, "views", json_integer(img->views));
        json_object_set_new(j, "queue_position",
                            img->queue_position
                                ? json_integer(img->queue_position)
                                : json_null());
        json_object_set_new(j, "reject_code",
                            img->reject_code[0] ? json_string(img->reject_code)
                                                : json_null());
        json_object_set_new(j, "reject_reason",
                            img->reject_reason[0]
                                ? json_string(img->reject_reason)
                                : json_null());
        json_object_set_new(j, "fail_reason",
                            img->fail_reason[0] ? json_string(img->fail_reason)
                                                : json_null());
    }
    return j;
}

static json_t *
list_json(struct app *app, const struct cat_image_list *l, int with_matches)
{
    json_t *items = json_array();

    for (int i = 0; i < l->n; i++) {
        const struct cat_image *img = &l->items[i];
        json_t *j = images_json(app, img, 1);

        if (!j)
            continue;
        if (with_matches) {
            json_t *m = json_array();

            for (int k = 0; k < img->n_matches; k++) {
                const struct cat_match *x = &img->matches[k];
                char thumb[96];

                snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg",
                         x->other_id);
                json_array_append_new(
                    m,
                    json_pack("{s:s,s:s,s:s,s:s,s:i,s:b,s:b,s:s}", "image_id",
                              x->other_id, "title", x->other_title, "status",
                              db_status_img_str(x->other_status),
                              "contributor_id", x->other_contributor_id,
                              "distance", x->distance, "rotated_or_mirrored",
                              x->variant != 0, "possible_theft",
                              x->possible_theft, "thumbnail_url", thumb));
            }
            json_object_set_new(j, "matches", m);
        }
        json_array_append_new(items, j);
    }
    return json_pack("{s:o,s:o}", "items", items, "next_cursor",
                     l->next_cursor[0] ? json_string(l->next_cursor)
                                       : json_null());
}

/* ---- upload ----------------------------------------------------------- */

static void __attribute__((format(printf, 4, 5)))
outcome(struct ingest *out, unsigned status, const char *code, const char *fmt,
        ...)
{
    va_list ap;

    out->status = status;
    snprintf(out->code, sizeof out->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static void
img_outcome(struct ingest *out, int rc, const char *err)
{
    switch (rc) {
    case IMG_EEMPTY:
        outcome(out, 400, "empty_file", "The file is empty.");
        break;
    case IMG_EUNSUPPORTED:
        outcome(out, 415, "unsupported_format",
                "Only JPEG, PNG, WebP, TIFF "
                "and HEIF/HEIC/AVIF photos are accepted (%s).",
                err);
        break;
    case IMG_ETOOSMALL:
        outcome(out, 422, "too_small", "The photo is too small: %s.", err);
        break;
    case IMG_ETOOMANYPIXELS:
        outcome(out, 422, "too_many_pixels",
                "The photo has too many "
                "pixels: %s.",
                err);
        break;
    case IMG_ESHAPE:
        outcome(out, 422, "bad_shape",
                "The photo is too long and narrow: "
                "%s.",
                err);
        break;
    case IMG_EEMBEDDED:
        outcome(out, 422, "embedded_content",
                "The file hides another "
                "document inside the image: %s.",
                err);
        break;
    case IMG_ECORRUPT:
    case IMG_ETIMEOUT:
        outcome(out, 422, "corrupt", "The file is damaged or truncated: %s.",
                err);
        break;
    default:
        /* The reason reaches the log through the caller (HTTP: the error
         * policy, with the request id; import: its own output). */
        outcome(out, 500, "internal", "The photo could not be checked: %s.",
                err);
    }
}

static int
count_keywords(const char *csv)
{
    int n = 0;

    for (const char *p = csv; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        for (size_t i = 0; i < len; i++) {
            if (p[i] != ' ') {
                n++;
                break;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return n;
}

/* Embedded text is the photographer's, from their software: keep it only
 * when it is text we would accept from them directly. */
static const char *
embedded(const char *s)
{
    return s && text_ok(s) ? s : NULL;
}

int
images_ingest(struct app *app, const char *contributor_id, const char *path,
              int64_t size, const char *title, const char *desc,
              const char *keywords, int *moved, struct ingest *out)
{
    struct img_limits lim = {(uint64_t)app->cfg.min_pixels,
                             (uint64_t)app->cfg.max_pixels, app->cfg.max_aspect,
                             app->cfg.decode_deadline_ms};
    struct img_analysis a;
    struct cat_new_image in = {0};
    char ierr[IMG_ERR_LEN], err[DB_ERR_LEN], sha[65], key[256];
    int rc;

    memset(out, 0, sizeof *out);
    *moved = 0;
    if (keywords && count_keywords(keywords) > CAT_KEYWORDS_MAX) {
        outcome(out, 422, "too_many_keywords",
                "At most %s keywords, "
                "please.",
                "50");
        return -1;
    }
    rc = img_analyse(path, &lim, &a, ierr);
    if (rc != IMG_OK) {
        img_outcome(out, rc, ierr);
        return -1;
    }
    if (blob_sha256_file(path, sha) < 0) {
        outcome(out, 503, "storage_unavailable",
                "The upload could not be "
                "read back.");
        goto out;
    }
    in.contributor_id = contributor_id;
    in.title = title && *title ? title : embedded(a.title) ? a.title : "";
    in.description = desc && *desc ? desc : embedded(a.description);
    in.keywords = keywords && *keywords ? keywords : embedded(a.keywords);
    in.width = a.width;
    in.height = a.height;
    in.format = img_format_name(a.format);
    in.mime = a.mime;
    in.file_size = size;
    in.sha256 = sha;
    in.camera_make = embedded(a.camera_make);
    in.camera_model = embedded(a.camera_model);
    in.date_taken = a.date_taken;
    in.colour = a.colour;
    memcpy(in.dhash, a.dhash, sizeof in.dhash);
    randombytes_buf(&in.watermark_seed, sizeof in.watermark_seed);
    rc = cat_image_create(app->db, &in, out->id, err);
    if (rc == DB_ECONFLICT) {
        outcome(out, 409, "duplicate",
                "This exact file was uploaded before"
                ".");
        goto out;
    }
    if (rc == DB_EINVAL) {
        outcome(out, 422, "invalid_field", "%s.", err);
        goto out;
    }
    if (rc != DB_OK) {
        outcome(out, rc == DB_EBUSY ? 503 : 500,
                rc == DB_EBUSY ? "busy" : "internal",
                "The upload could not be recorded: %s.", err);
        goto out;
    }
    /* The record and its job exist first: if we stop before the original
     * is stored, the job finds it missing and marks the image failed, so
     * nothing is left half-done and no stray file outlives us. */
    blob_key_original(sha, key, sizeof key);
    if (blob_put_file(app->blobs, key, path) < 0) {
        log_error("storing original %s failed", sha);
        outcome(out, 503, "storage_unavailable",
                "The photo could not be "
                "stored.");
        goto out;
    }
    *moved = 1;
    blob_key_rendition(out->id, "thumb.jpg", key, sizeof key);
    if (blob_put_bytes(app->blobs, key, a.thumbnail.data, a.thumbnail.len) < 0)
        log_warn("%s: thumbnail not stored; the worker makes it", out->id);
    /* The decoded pixels spare the worker a second decode of the original;
     * without them it decodes the original as before. */
    blob_key_rendition(out->id, "base.raw", key, sizeof key);
    if (blob_put_bytes(app->blobs, key, a.base.data, a.base.len) < 0)
        log_warn("%s: preview base not stored; the worker decodes the "
                 "original",
                 out->id);
    /* Only now may a worker take the job: its files are in place. */
    if (cat_job_release(app->db, out->id, err) != DB_OK)
        log_warn("%s: job release: %s; it runs when its hold ends", out->id,
                 err);
    workers_wake(app);
    out->status = 202;
    snprintf(out->code, sizeof out->code, "processing");
out:
    img_analysis_release(&a);
    return out->status == 202 ? 0 : -1;
}

/* A text form field: absent is NULL; bad UTF-8 or too long replies 422. */
static int
form_text(struct srv_req *r, const char *name, size_t max, const char **out)
{
    struct srv_part *p = srv_req_part(r, name);

    *out = NULL;
    if (!p || !p->value)
        return 0;
    if (p->path[0] || p->fd >= 0) {
        srv_error(r, 422, "invalid_field", "'%s' must be text.", name);
        return -1;
    }
    if (strlen(p->value) != p->size || !text_ok(p->value) || p->size > max) {
        srv_error(r, 422, "invalid_field",
                  "'%s' must be UTF-8 text of at "
                  "most %zu bytes.",
                  name, max);
        return -1;
    }
    *out = p->value;
    return 0;
}

void
images_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct srv_part *file = srv_req_part(r, "file");
    const char *title, *desc, *keywords;
    struct ingest res;
    int moved = 0;

    if (form_text(r, "title", CAT_TITLE_MAX, &title) < 0 ||
        form_text(r, "description", CAT_DESC_MAX, &desc) < 0 ||
        form_text(r, "keywords", 4000, &keywords) < 0)
        return;
    if (!file || file->fd < 0) {
        srv_error(r, 422, "missing_file",
                  "Send the photo as the multipart field 'file'.");
        return;
    }
    images_ingest(app, srv_req_user(r)->id, file->path, (int64_t)file->size,
                  title, desc, keywords, &moved, &res);
    if (moved)
        srv_part_take_file(file);
    if (res.status == 202)
        srv_json(r, 202,
                 json_pack("{s:s,s:s}", "id", res.id, "status",
                           db_status_img_str(DB_IMG_PROCESSING)));
    else if (res.status == 409)
        srv_json(r, 409,
                 json_pack("{s:{s:s,s:s,s:s}}", "error", "code", res.code,
                           "message", res.message, "image_id", res.id));
    else if (res.status == 503)
        srv_reply_overloaded(r, res.code, "upload", "%s", res.message);
    else if (res.status >= 500)
        srv_reply_internal(r, "upload", "%s", res.message);
    else
        srv_error(r, res.status, res.code, "%s", res.message);
}

/* ---- reading ---------------------------------------------------------- */

static int
is_reviewer(const struct acc_user *u)
{
    return u && (u->roles & (ACC_ROLE_REVIEWER | ACC_ROLE_ADMIN));
}

/* Fetch an image the viewer may see; replies 404 otherwise, so ids of
 * unpublished images reveal nothing. */
struct cat_image *
images_visible(struct srv_req *r, const char *id)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct cat_image *img = NULL;
    char err[DB_ERR_LEN];
    int rc = cat_image_get(app->db, id, &img, err);

    if (rc == DB_OK &&
        cat_image_is_visible(img, u ? u->id : NULL, is_reviewer(u)))
        return img;
    /* An image the viewer may not see is, to them, not there at all. */
    srv_reply_db(r, rc == DB_OK ? DB_ENOTFOUND : rc, err, "image");
    cat_image_free(img);
    return NULL;
}

void
images_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct cat_image *img = images_visible(r, srv_req_param(r, 0));
    json_t *j;

    if (!img)
        return;
    j = images_json(
        app, img, (u && !strcmp(u->id, img->contributor_id)) || is_reviewer(u));
    if (img->status == DB_IMG_APPROVED)
        views_seen(app, img->id);
    search_similar(r, img, j);
    cat_image_free(img);
    if (j)
        srv_json(r, 200, j);
    else
        srv_reply_internal(r, "image", "JSON encoding failed");
}

/* A page of images for their owner (mine) or for the review queue. */
void
images_list_reply(struct srv_req *r, int queue)
{
    struct app *app = srv_req_app(r);
    struct cat_image_list l = {0};
    const char *cursor = srv_req_query(r, "cursor");
    char err[DB_ERR_LEN];
    int64_t limit;
    int rc;

    if (srv_query_int(r, "limit", 1, CAT_LIST_MAX, CAT_LIST_DEFAULT, &limit) <
        0)
        return;
    rc = queue ? cat_review_queue(app->db, cursor, (int)limit, &l, err)
               : cat_images_of_contributor(app->db, srv_req_user(r)->id, cursor,
                                           (int)limit, &l, err);
    if (rc == DB_EINVAL)
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
    else if (srv_reply_db(r, rc, err, "image list") == 0)
        srv_json(r, 200, list_json(app, &l, queue));
    cat_image_list_release(&l);
}

void
images_mine(struct srv_req *r)
{
    images_list_reply(r, 0);
}

/* ---- editing ---------------------------------------------------------- */

/* keywords may come as "a, b, c" or ["a", "b", "c"]: make it a list. */
static int
keywords_field(struct srv_req *r, char **out)
{
    json_t *v = json_object_get(srv_req_json(r), "keywords");
    size_t i;
    json_t *k;
    char *buf;
    size_t len = 0;

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = strdup(json_string_value(v));
        return *out ? 0 : -1;
    }
    if (!json_is_array(v) || json_array_size(v) > CAT_KEYWORDS_MAX) {
        srv_error(r, 422, "invalid_field",
                  "'keywords' must be a list of at "
                  "most %d words or a comma-separated string.",
                  CAT_KEYWORDS_MAX);
        return -1;
    }
    buf = calloc(1, json_array_size(v) * (CAT_KEYWORD_MAX + 2) + 1);
    if (!buf)
        return -1;
    json_array_foreach(v, i, k)
    {
        const char *s = json_string_value(k);

        if (!s || strchr(s, ',') || strlen(s) > CAT_KEYWORD_MAX) {
            free(buf);
            srv_error(r, 422, "invalid_field",
                      "Each keyword must be a "
                      "string of at most %d bytes without commas.",
                      CAT_KEYWORD_MAX);
            return -1;
        }
        len += (size_t)sprintf(buf + len, "%s%s", i ? "," : "", s);
    }
    *out = buf;
    return 0;
}

void
images_patch(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    const char *title, *desc;
    char *keywords = NULL, err[DB_ERR_LEN];
    struct cat_image *img = NULL;
    int rc;

    if (srv_field_str(r, "title", 0, CAT_TITLE_MAX, 1, &title) < 0 ||
        srv_field_str(r, "description", 0, CAT_DESC_MAX, 1, &desc) < 0 ||
        keywords_field(r, &keywords) < 0)
        return;
    if (!title && !desc && !keywords) {
        srv_error(r, 422, "missing_field",
                  "Send a title, description or "
                  "keywords to change.");
        return;
    }
    if ((title && !text_ok(title)) || (desc && !text_ok(desc)) ||
        (keywords && !text_ok(keywords))) {
        srv_error(r, 422, "invalid_field",
                  "Text must not hold control "
                  "characters.");
        goto out;
    }
    if (keywords && count_keywords(keywords) > CAT_KEYWORDS_MAX) {
        srv_error(r, 422, "too_many_keywords", "At most %d keywords, please.",
                  CAT_KEYWORDS_MAX);
        goto out;
    }
    rc = cat_image_update_meta(app->db, id, srv_req_user(r)->id, title, desc,
                               keywords, err);
    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_field", "%s.", err);
        goto out;
    }
    if (rc == DB_OK)
        rc = cat_image_get(app->db, id, &img, err);
    if (srv_reply_db(r, rc, err, "image of yours") < 0)
        goto out;
    srv_json(r, 200, images_json(app, img, 1));
out:
    cat_image_free(img);
    free(keywords);
}
