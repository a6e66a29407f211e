/* Stockroom — model and property releases: a contributor uploads the signed
 * form (kept privately in the blob store under releases/), lists theirs,
 * attaches them to photos; reviewers, admins and the owner may open the
 * document, nobody else, ever (404, so ids reveal nothing). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "blob.h"
#include "cat_release.h"

#define RELEASE_MAX_BYTES (10 * 1024 * 1024)

/* The document's type from its first bytes only; NULL when it is none of
 * PDF, JPEG and PNG. */
static const char *
sniff(int fd)
{
    unsigned char b[8] = {0};

    if (pread(fd, b, sizeof b, 0) != (ssize_t)sizeof b)
        return NULL;
    if (!memcmp(b, "%PDF-", 5))
        return "application/pdf";
    if (b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "image/jpeg";
    if (!memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    return NULL;
}

static void
key_of(const char *id, char *key, size_t len)
{
    snprintf(key, len, "releases/%s", id);
}

static json_t *
release_json(const struct cat_release *rl)
{
    char at[32], url[96];

    app_iso_time(rl->created_at, at);
    snprintf(url, sizeof url, "/api/v1/releases/%s/file", rl->id);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", rl->id, "kind",
                     rl->kind, "name", rl->name, "mime", rl->mime, "size",
                     (json_int_t)rl->size, "file_url", url, "created_at", at);
}

void
releases_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct srv_part *file = srv_req_part(r, "file");
    const char *kind, *name, *mime;
    struct cat_release rl;
    unsigned char rnd[8];
    char id[CAT_ID_LEN], key[64], err[DB_ERR_LEN];
    int rc;

    if (images_form_text(r, "kind", 16, &kind) < 0 ||
        images_form_text(r, "name", CAT_RELEASE_NAME_MAX, &name) < 0)
        return;
    if (!kind || (strcmp(kind, "model") != 0 && strcmp(kind, "property"))) {
        srv_error(r, 422, "invalid_field", "'kind' must be model or property.");
        return;
    }
    if (!name || !*name) {
        srv_error(r, 422, "missing_field", "The field 'name' is required.");
        return;
    }
    if (!file || file->fd < 0) {
        srv_error(r, 422, "missing_file",
                  "Send the signed form as the multipart field 'file'.");
        return;
    }
    if (file->size > RELEASE_MAX_BYTES) {
        srv_error(r, 413, "too_large", "A release may be at most 10 MB.");
        return;
    }
    mime = sniff(file->fd);
    if (!mime) {
        srv_error(r, 415, "unsupported_type",
                  "A release must be a PDF, JPEG or PNG file.");
        return;
    }
    randombytes_buf(rnd, sizeof rnd);
    snprintf(id, sizeof id, "rel");
    sodium_bin2hex(id + 3, sizeof id - 3, rnd, sizeof rnd);
    key_of(id, key, sizeof key);
    if (srv_reply_blob(r, blob_put_file(app->blobs, key, file->path),
                       "release") < 0)
        return;
    srv_part_take_file(file);
    rc = cat_release_create(app->db, id, srv_req_user(r)->id, kind, name, mime,
                            (int64_t)file->size, err);
    if (rc == DB_OK)
        rc = cat_release_get(app->db, id, &rl, err);
    if (rc != DB_OK)
        (void)blob_remove(app->blobs, key);
    if (srv_reply_db(r, rc, err, "release") < 0)
        return;
    srv_json(r, 201, release_json(&rl));
}

static json_t *
list_json(const struct cat_release *a, int n)
{
    json_t *items = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(items, release_json(&a[i]));
    return items;
}

void
releases_mine(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct cat_release *a = NULL;
    char err[DB_ERR_LEN];
    int n = 0;

    if (srv_reply_db(
            r,
            cat_releases_list(app->db, srv_req_user(r)->id, NULL, &a, &n, err),
            err, "release list") < 0)
        return;
    srv_json(r, 200, json_pack("{s:o}", "items", list_json(a, n)));
    free(a);
}

json_t *
releases_of_image(struct app *app, const char *id)
{
    struct cat_release *a = NULL;
    char err[DB_ERR_LEN];
    json_t *j;
    int n = 0;

    if (cat_releases_list(app->db, NULL, id, &a, &n, err) != DB_OK)
        return json_array();
    j = list_json(a, n);
    free(a);
    return j;
}

void
releases_file(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct cat_release rl;
    char key[64], err[DB_ERR_LEN], disp[96];
    uint64_t size;
    int fd, rc = cat_release_get(app->db, srv_req_param(r, 0), &rl, err);

    /* Everyone but the owner and staff is told there is nothing here. */
    if (rc == DB_OK && (!u || strcmp(rl.owner_id, u->id) != 0) &&
        !(u && (u->roles & (ACC_ROLE_REVIEWER | ACC_ROLE_ADMIN))))
        rc = DB_ENOTFOUND;
    if (srv_reply_db(r, rc, err, "release") < 0)
        return;
    key_of(rl.id, key, sizeof key);
    if (srv_reply_blob(r, blob_open_read(app->blobs, key, &fd, &size),
                       "release") < 0)
        return;
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"", rl.id,
             !strcmp(rl.mime, "application/pdf") ? "pdf"
             : !strcmp(rl.mime, "image/png")     ? "png"
                                                 : "jpg");
    srv_header(r, "Content-Disposition", disp);
    srv_header(r, "Cache-Control", "private, no-store");
    srv_fd(r, 200, fd, size, rl.mime);
}

static void
attach(struct srv_req *r, int on)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    char err[DB_ERR_LEN];

    if (srv_reply_db(r,
                     cat_release_attach(app->db, id, srv_req_param(r, 1),
                                        srv_req_user(r)->id, on, err),
                     err, "image or release of yours") < 0)
        return;
    srv_json(r, 200,
             json_pack("{s:s,s:o}", "image_id", id, "releases",
                       releases_of_image(app, id)));
}

void
releases_attach(struct srv_req *r)
{
    attach(r, 1);
}

void
releases_detach(struct srv_req *r)
{
    attach(r, 0);
}
