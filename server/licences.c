/* Stockroom — licences: buying one, the buyer's list, the licensed file,
 * the signed certificate and its check, and refunds. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "ledger.h"
#include "log.h"

/* ---- licences ---------------------------------------------------------- */

static json_t *
licence_json(const struct ledger_licence *l, int money)
{
    char created[32], dl[128], cert[128], thumb[96];
    json_t *j;

    app_iso_time(l->created_at, created);
    snprintf(dl, sizeof dl, "/api/v1/licences/%s/download", l->id);
    snprintf(cert, sizeof cert, "/api/v1/licences/%s/certificate", l->id);
    snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", l->image_id);
    j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:b}", "id", l->id,
                  "image_id", l->image_id, "size", l->size, "type", l->type,
                  "credits", (json_int_t)l->credits, "created_at", created,
                  "download_url", dl, "certificate_url", cert, "thumbnail_url",
                  thumb, "refunded", l->refunded_at != 0);
    if (j && money) {
        json_object_set_new(j, "cash_cents", json_integer(l->cash_cents));
        json_object_set_new(j, "royalty_rate_bp", json_integer(l->rate_bp));
        json_object_set_new(j, "royalty_cents", json_integer(l->royalty_cents));
        json_object_set_new(j, "platform_cents",
                            json_integer(l->platform_cents));
    }
    return j;
}

void
licences_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *key = money_idem_key(r), *image_id, *size, *type;
    struct cat_image *img = NULL;
    struct ledger_licence_req req = {0};
    struct ledger_licence lic;
    char hash[65], canon[256], err[DB_ERR_LEN];
    int idx = 0, held = 0, extended, rc;
    json_t *j;

    if (!key || srv_field_str(r, "image_id", 1, 40, 0, &image_id) < 0 ||
        srv_field_str(r, "size", 1, 4, 0, &size) < 0 ||
        srv_field_str(r, "type", 1, 12, 1, &type) < 0)
        return;
    if (!type)
        type = "standard";
    extended = !strcmp(type, "extended");
    if (!extended && strcmp(type, "standard") != 0) {
        srv_error(r, 422, "invalid_field",
                  "'type' must be standard or "
                  "extended.");
        return;
    }
    rc = cat_image_get(app->db, image_id, &img, err);
    /* An image that is not on sale is, to a buyer, not there at all. */
    if (rc == DB_OK && img->status != DB_IMG_APPROVED)
        rc = DB_ENOTFOUND;
    if (srv_reply_db(r, rc, err, "image for sale") < 0)
        goto out;
    if (images_size_edge(size, img->width, img->height, &idx) < 0) {
        srv_error(r, 422, "size_not_offered",
                  "This image is not offered at "
                  "size '%s'.",
                  size);
        goto out;
    }
    snprintf(canon, sizeof canon, "image=%s&size=%s&type=%s", image_id, size,
             type);
    money_request_hash(canon, hash);
    rc = ledger_licence_held(app->db, u->id, image_id, size, type, &held, err);
    if (srv_reply_db(r, rc, err, "licence") < 0)
        goto out;
    req.buyer_id = u->id;
    req.image_id = image_id;
    req.contributor_id = img->contributor_id;
    req.size = size;
    req.type = type;
    req.credits =
        app->cfg.size_credits[idx] + (extended ? app->cfg.extended_credits : 0);
    req.idem_key = key;
    req.request_hash = hash;
    req.tiers = app->tiers;
    req.n_tiers = app->n_tiers;
    rc = ledger_licence_create(app->db, &req, &lic, err);
    if (srv_reply_db(r, rc, err, "licence") < 0)
        goto out;
    j = licence_json(&lic, 0);
    /* The buyer held this licence before this sale: the page says so. */
    json_object_set_new(j, "already_held", json_boolean(held && !lic.replayed));
    srv_json(r, 201, j);
out:
    cat_image_free(img);
}

void
licences_mine(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_licence_list l = {0};
    char err[DB_ERR_LEN];
    int64_t limit;
    json_t *a;
    int rc;

    if (srv_query_int(r, "limit", 1, 100, 24, &limit) < 0)
        return;
    rc = ledger_licences_for_buyer(app->db, srv_req_user(r)->id,
                                   srv_req_query(r, "cursor"), (size_t)limit,
                                   &l, err);
    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
        return;
    }
    if (srv_reply_db(r, rc, err, "licence") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++) {
        json_t *j = licence_json(&l.items[i], 0);
        struct cat_image *img = NULL;

        /* The title as it is now, so My downloads reads like a list of
         * photos; a page holds at most 100. */
        if (cat_image_get(app->db, l.items[i].image_id, &img, err) == DB_OK)
            json_object_set_new(j, "image_title", json_string(img->title));
        cat_image_free(img);
        json_array_append_new(a, j);
    }
    srv_json(
        r, 200,
        json_pack("{s:o,s:o}", "items", a, "next_cursor",
                  l.next_cursor[0] ? json_string(l.next_cursor) : json_null()));
    ledger_licence_list_release(&l);
}

/* Make the licensed file once and remember its SHA-256: later downloads
 * and the certificate use the same bytes. 0, or -1 after replying (what
 * names the file in the reply). */
static int
licensed_file(struct srv_req *r, const struct ledger_licence *l,
              const char *what, char key[256], char sha[65])
{
    struct app *app = srv_req_app(r);
    struct cat_image *img = NULL;
    struct acc_user buyer;
    struct img_buf buf = {0};
    char okey[256], src[1400], copyright[512], ierr[IMG_ERR_LEN];
    char err[DB_ERR_LEN], year[8];
    time_t t = (time_t)l->created_at;
    struct tm tm;
    int idx = 0, edge, rc;

    snprintf(key, 256, "licensed/%s.jpg", l->id);
    if (l->file_sha256[0] && blob_exists(app->blobs, key)) {
        snprintf(sha, 65, "%s", l->file_sha256);
        return 0;
    }
    rc = cat_image_get(app->db, l->image_id, &img, err);
    if (rc == DB_OK)
        rc = acc_user_get(app->db, l->buyer_id, &buyer, err);
    if (rc != DB_OK) {
        /* The licence exists, so its image and buyer must. */
        if (rc == DB_EBUSY)
            srv_reply_db(r, rc, err, what);
        else
            srv_reply_internal(r, what, "licence %s: %s", l->id, err);
        rc = -1;
        goto out;
    }
    edge = images_size_edge(l->size, img->width, img->height, &idx);
    if (edge < 0) {
        srv_reply_internal(r, what, "licence %s: size %s not offered", l->id,
                           l->size);
        rc = -1;
        goto out;
    }
    gmtime_r(&t, &tm);
    strftime(year, sizeof year, "%Y", &tm);
    snprintf(copyright, sizeof copyright,
             "\xc2\xa9 %s %s. Licensed to %s "
             "via Stockroom (%s licence, size %s).",
             year, img->contributor_name, buyer.name, l->type, l->size);
    blob_key_original(img->sha256, okey, sizeof okey);
    blob_path(app->blobs, okey, src, sizeof src);
    rc = img_render(src, edge, copyright, l->id, app->cfg.decode_deadline_ms,
                    &buf, ierr);
    if (srv_reply_img(r, rc, ierr, what) < 0) {
        rc = -1;
        goto out;
    }
    blob_sha256_bytes(buf.data, buf.len, sha);
    /* Two first downloads at once make identical bytes: either write wins
     * and both record the same digest. */
    rc = srv_reply_blob(r, blob_put_bytes(app->blobs, key, buf.data, buf.len),
                        what);
    if (rc == 0)
        rc = srv_reply_db(r, ledger_licence_set_file(app->db, l->id, sha, err),
                          err, what);
out:
    img_buf_release(&buf);
    cat_image_free(img);
    return rc;
}

/* The licence, for its licensee only: anyone else gets the same 404 as
 * for an id that does not exist. */
static int
own_licence(struct srv_req *r, struct ledger_licence *l)
{
    char err[DB_ERR_LEN];
    int rc =
        ledger_licence_get(srv_req_app(r)->db, srv_req_param(r, 0), l, err);

    /* Someone else's licence gets the same 404 as one that does not exist. */
    if (rc == DB_OK && strcmp(l->buyer_id, srv_req_user(r)->id) != 0)
        rc = DB_ENOTFOUND;
    return srv_reply_db(r, rc, err, "licence of yours");
}

void
licences_download(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_licence l;
    char key[256], sha[65], disp[200];
    uint64_t size;
    int fd;

    if (own_licence(r, &l) < 0)
        return;
    if (l.refunded_at) {
        srv_error(r, 410, "licence_refunded", "This licence was refunded.");
        return;
    }
    if (licensed_file(r, &l, "licensed file", key, sha) < 0)
        return;
    if (srv_reply_blob(r, blob_open_read(app->blobs, key, &fd, &size),
                       "licensed file") < 0)
        return;
    snprintf(disp, sizeof disp,
             "attachment; filename=\"stockroom-%s-%s-%s"
             ".jpg\"",
             l.image_id, l.size, l.id);
    srv_header(r, "Content-Disposition", disp);
    srv_header(r, "Cache-Control", "private, no-store");
    srv_fd(r, 200, fd, size, "image/jpeg");
}

/* The signed text is the certificate's JSON with sorted keys and no
 * spaces: anyone can check the signature over exactly those bytes. */
void
licences_certificate(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_licence l;
    struct acc_user buyer;
    struct cat_image *img = NULL;
    unsigned char sig[crypto_sign_BYTES];
    char err[DB_ERR_LEN], key[256], sha[65], issued[32];
    char sig64[128], pk64[64];
    char *text = NULL;
    json_t *cert;
    int rc;

    rc = ledger_licence_get(app->db, srv_req_param(r, 0), &l, err);
    if (srv_reply_db(r, rc, err, "licence") < 0)
        goto out;
    /* The licence exists: its buyer and image must too. */
    rc = acc_user_get(app->db, l.buyer_id, &buyer, err);
    if (rc == DB_OK)
        rc = cat_image_get(app->db, l.image_id, &img, err);
    if (rc != DB_OK) {
        srv_reply_internal(r, "certificate", "licence %s: %s", l.id, err);
        goto out;
    }
    if (licensed_file(r, &l, "certificate", key, sha) < 0)
        goto out;
    app_iso_time(l.created_at, issued);
    cert = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s},s:s,s:s,"
                     "s:s,s:s,s:s}",
                     "store", "Stockroom", "licence_id", l.id, "licensee", "id",
                     buyer.id, "name", buyer.name, "image", "id", img->id,
                     "title", img->title, "contributor", "id",
                     img->contributor_id, "name", img->contributor_name,
                     "file_sha256", sha, "size", l.size, "type", l.type,
                     "terms_version", app->cfg.terms_version, "date", issued);
    text = cert ? json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text) {
        json_decref(cert);
        srv_reply_internal(r, "certificate", "JSON encoding failed");
        goto out;
    }
    crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text),
                         app->sign_sk);
    money_b64(sig, sizeof sig, sig64, sizeof sig64);
    money_b64(app->sign_pk, sizeof app->sign_pk, pk64, sizeof pk64);
    srv_json(r, 200,
             json_pack("{s:o,s:s,s:s,s:s,s:s,s:b}", "certificate", cert,
                       "signed_text", text, "signature", sig64, "public_key",
                       pk64, "algorithm", "Ed25519", "refunded",
                       l.refunded_at != 0));
out:
    free(text);
    cat_image_free(img);
}

void
licences_public_key(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    char pk64[64];

    money_b64(app->sign_pk, sizeof app->sign_pk, pk64, sizeof pk64);
    srv_json(
        r, 200,
        json_pack("{s:s,s:s}", "algorithm", "Ed25519", "public_key", pk64));
}

/* GET ?signed_text=...&signature=...: is this a certificate we signed? */
void
licences_verify(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *text = srv_req_query(r, "signed_text");
    const char *sig64 = srv_req_query(r, "signature");
    unsigned char sig[crypto_sign_BYTES];
    size_t siglen = 0;
    json_t *cert = NULL;
    struct ledger_licence l;
    char err[DB_ERR_LEN];
    int valid, refunded = 0;

    if (!text || !sig64) {
        srv_error(r, 422, "missing_parameter",
                  "Send signed_text and "
                  "signature from the certificate.");
        return;
    }
    valid =
        sodium_base642bin(sig, sizeof sig, sig64, strlen(sig64), NULL, &siglen,
                          NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
        siglen == sizeof sig &&
        crypto_sign_verify_detached(sig, (const unsigned char *)text,
                                    strlen(text), app->sign_pk) == 0;
    if (valid)
        cert = json_loads(text, 0, NULL);
    if (cert &&
        ledger_licence_get(
            app->db,
            json_string_value(json_object_get(cert, "licence_id")) ?: "", &l,
            err) == DB_OK)
        refunded = l.refunded_at != 0;
    srv_json(r, 200,
             json_pack("{s:b,s:b,s:o}", "valid", valid, "refunded", refunded,
                       "certificate", cert ? cert : json_null()));
}

void
licences_refund(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_licence l;
    char err[DB_ERR_LEN];
    int rc = ledger_licence_refund(app->db, srv_req_param(r, 0),
                                   srv_req_user(r)->id, &l, err);

    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "already_refunded",
                  "This licence was refunded "
                  "before.");
        return;
    }
    if (srv_reply_db(r, rc, err, "licence") < 0)
        return;
    log_info("%s: licence %s refunded by %s", srv_req_id(r), l.id,
             srv_req_user(r)->id);
    srv_json(r, 200, licence_json(&l, 1));
}
