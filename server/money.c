/* Stockroom — money: credit packs, licences, licensed downloads, signed
 * certificates, earnings, payouts, refunds and the ledger check. The books
 * themselves live in db/ledger.c; this file maps HTTP onto them. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "text.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "ledger.h"
#include "log.h"
#include "payments.h"

#define KEY_FILE "signing.key"

static const struct ledger_tier *
tiers(struct app *app, size_t *n)
{
    static struct ledger_tier t[CFG_MAX_TIERS];

    /* The configuration does not change after start-up: copying it on
     * every call gives the same table. */
    for (int i = 0; i < app->cfg.n_tiers; i++) {
        t[i].min_sold = app->cfg.tiers[i].min_sold;
        t[i].rate_bp = app->cfg.tiers[i].rate_bp;
    }
    *n = (size_t)app->cfg.n_tiers;
    return t;
}

int
app_credits(struct app *app, const char *user_id, int64_t *credits)
{
    char err[DB_ERR_LEN];

    if (ledger_wallet(app->db, user_id, credits, err) != DB_OK) {
        log_error("wallet %s: %s", user_id, err);
        return -1;
    }
    return 0;
}

/* ---- the store's signing key ------------------------------------------ */

int
money_keys_load(struct app *app)
{
    char path[1200], tmp[1300];
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "%s/" KEY_FILE, app->cfg.data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, app->sign_sk, sizeof app->sign_sk);
        close(fd);
        if (n != (ssize_t)sizeof app->sign_sk)
            return -1;
        crypto_sign_ed25519_sk_to_pk(app->sign_pk, app->sign_sk);
        return 0;
    }
    if (errno != ENOENT)
        return -1;
    /* First start: make the key, write it where only we can read it, and
     * move it into place in one step. */
    crypto_sign_keypair(app->sign_pk, app->sign_sk);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    n = write(fd, app->sign_sk, sizeof app->sign_sk);
    if (n != (ssize_t)sizeof app->sign_sk || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

static void
b64(const unsigned char *bin, size_t len, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* ---- packs and purchases ---------------------------------------------- */

void
packs_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    json_t *a = json_array();
    char id[24];

    for (int i = 0; i < app->cfg.n_packs; i++) {
        snprintf(id, sizeof id, "%lld", (long long)app->cfg.packs[i].credits);
        json_array_append_new(
            a, json_pack("{s:s,s:I,s:I}", "id", id, "credits",
                         (json_int_t)app->cfg.packs[i].credits, "price_cents",
                         (json_int_t)app->cfg.packs[i].price_cents));
    }
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

/* The Idempotency-Key header, required on every money-moving request. */
static const char *
idem_key(struct srv_req *r)
{
    const char *k = srv_req_header(r, "Idempotency-Key");

    if (!k || !*k || strlen(k) >= LEDGER_KEY_LEN || !text_ok(k)) {
        srv_error(r, 400, "missing_idempotency_key",
                  "Send a unique "
                  "Idempotency-Key header (up to %d characters) so a retry "
                  "is never charged twice.",
                  LEDGER_KEY_LEN - 1);
        return NULL;
    }
    return k;
}

static void
request_hash(const char *canonical, char hex[65])
{
    blob_sha256_bytes(canonical, strlen(canonical), hex);
}

static json_t *
purchase_json(const struct ledger_purchase *p)
{
    char created[32];

    app_iso_time(p->created_at, created);
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:b}", "purchase_id", p->id,
                     "credits", (json_int_t)p->credits, "price_cents",
                     (json_int_t)p->price_cents, "status", p->status,
                     "created_at", created, "credits_used",
                     (json_int_t)p->credits_used, "refundable", p->refundable);
}

static int
reply_ledger_error(struct srv_req *r, int rc, const char *err)
{
    switch (rc) {
    case DB_OK:
        return 0;
    case DB_EREUSED:
        srv_error(r, 409, "idempotency_key_reused",
                  "This Idempotency-Key "
                  "was used for a different request.");
        break;
    case DB_EFUNDS:
        srv_error(r, 402, "insufficient_credits",
                  "You do not have enough "
                  "credits: buy a credit pack first.");
        break;
    case DB_ENOTFOUND:
        srv_error(r, 404, "not_found", "There is no such record.");
        break;
    case DB_EINVAL:
        srv_error(r, 422, "invalid_request", "%s.", err);
        break;
    case DB_ECONFLICT:
        srv_error(r, 409, "conflict", "%s.", err);
        break;
    case DB_EBUSY:
        srv_error(r, 503, "busy", "The store is busy: try again.");
        break;
    default:
        log_error("%s: ledger: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "The books could not be updated.");
    }
    return -1;
}

void
purchases_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct payment_provider *pp =
        payments_provider(app->cfg.payment_provider);
    const char *key = idem_key(r), *pack;
    const struct cfg_pack *chosen = NULL;
    struct ledger_purchase p, settled;
    char hash[65], canon[64], id[24], err[DB_ERR_LEN];
    int64_t balance = 0;
    json_t *j;
    int rc;

    if (!key || srv_field_str(r, "pack", 1, 20, 0, &pack) < 0)
        return;
    for (int i = 0; i < app->cfg.n_packs; i++) {
        snprintf(id, sizeof id, "%lld", (long long)app->cfg.packs[i].credits);
        if (!strcmp(id, pack))
            chosen = &app->cfg.packs[i];
    }
    if (!chosen) {
        srv_error(r, 422, "unknown_pack", "There is no credit pack '%s'.",
                  pack);
        return;
    }
    snprintf(canon, sizeof canon, "pack=%s", pack);
    request_hash(canon, hash);
    rc = ledger_purchase_create(app->db, srv_req_user(r)->id, key, hash,
                                chosen->credits, chosen->price_cents, pp->name,
                                &p, err);
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    if (strcmp(p.status, "pending") == 0) {
        if (pp->begin(app, &p, &settled, err, sizeof err) != 0) {
            log_error("%s: payment: %s", srv_req_id(r), err);
            srv_error(r, 502, "payment_failed",
                      "The payment did not go "
                      "through.");
            return;
        }
        p = settled;
    }
    if (app_credits(app, srv_req_user(r)->id, &balance) < 0) {
        srv_error(r, 500, "internal", "The balance could not be read.");
        return;
    }
    j = purchase_json(&p);
    json_object_set_new(j, "balance", json_integer(balance));
    srv_json(r, 201, j);
}

void
purchases_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_purchase_list l = {0};
    char err[DB_ERR_LEN];
    json_t *a;
    int rc = ledger_purchases(app->db, srv_req_user(r)->id, (int64_t)time(NULL),
                              app->cfg.pack_refund_days * 86400, 100, &l, err);

    if (reply_ledger_error(r, rc, err) < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a, purchase_json(&l.items[i]));
    ledger_purchase_list_release(&l);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

void
purchases_refund(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_purchase p;
    char err[DB_ERR_LEN];
    int64_t balance = 0;
    json_t *j;
    int rc = ledger_purchase_refund(app->db, srv_req_param(r, 0),
                                    srv_req_user(r)->id, (int64_t)time(NULL),
                                    app->cfg.pack_refund_days * 86400, &p, err);

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "refund_window_closed",
                  "Packs can be refunded "
                  "within %lld days of purchase.",
                  (long long)app->cfg.pack_refund_days);
        return;
    }
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_refundable",
                  "Only an unused pack can be "
                  "refunded, once.");
        return;
    }
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    if (app_credits(app, srv_req_user(r)->id, &balance) < 0) {
        srv_error(r, 500, "internal", "The balance could not be read.");
        return;
    }
    j = purchase_json(&p);
    json_object_set_new(j, "balance", json_integer(balance));
    srv_json(r, 200, j);
}

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
    const char *key = idem_key(r), *image_id, *size, *type;
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
    if (rc != DB_OK || strcmp(img->status, "approved") != 0) {
        srv_error(r, 404, "not_found", "There is no such image for sale.");
        goto out;
    }
    if (images_size_edge(size, img->width, img->height, &idx) < 0) {
        srv_error(r, 422, "size_not_offered",
                  "This image is not offered at "
                  "size '%s'.",
                  size);
        goto out;
    }
    snprintf(canon, sizeof canon, "image=%s&size=%s&type=%s", image_id, size,
             type);
    request_hash(canon, hash);
    if (ledger_licence_held(app->db, u->id, image_id, size, type, &held, err) !=
        DB_OK)
        held = 0;
    req.buyer_id = u->id;
    req.image_id = image_id;
    req.contributor_id = img->contributor_id;
    req.size = size;
    req.type = type;
    req.credits =
        app->cfg.size_credits[idx] + (extended ? app->cfg.extended_credits : 0);
    req.idem_key = key;
    req.request_hash = hash;
    req.tiers = tiers(app, &req.n_tiers);
    rc = ledger_licence_create(app->db, &req, &lic, err);
    if (reply_ledger_error(r, rc, err) < 0)
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
    if (reply_ledger_error(r, rc, err) < 0)
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
 * and the certificate use the same bytes. */
static int
licensed_file(struct app *app, const struct ledger_licence *l, char key[256],
              char sha[65], char *why, size_t whylen)
{
    struct cat_image *img = NULL;
    struct acc_user buyer;
    struct img_buf buf = {0};
    char okey[256], src[1400], copyright[512], ierr[IMG_ERR_LEN];
    char err[DB_ERR_LEN], year[8];
    time_t t = (time_t)l->created_at;
    struct tm tm;
    int idx = 0, edge, rc = -1;

    blob_key_licensed(l->id, key, 256);
    if (l->file_sha256[0] && blob_exists(app->blobs, key) == 1) {
        snprintf(sha, 65, "%s", l->file_sha256);
        return 0;
    }
    if (cat_image_get(app->db, l->image_id, &img, err) != DB_OK ||
        acc_user_get(app->db, l->buyer_id, &buyer, err) != DB_OK) {
        snprintf(why, whylen, "%s", err);
        goto out;
    }
    edge = images_size_edge(l->size, img->width, img->height, &idx);
    gmtime_r(&t, &tm);
    strftime(year, sizeof year, "%Y", &tm);
    snprintf(copyright, sizeof copyright,
             "\xc2\xa9 %s %s. Licensed to %s "
             "via Stockroom (%s licence, size %s).",
             year, img->contributor_name, buyer.name, l->type, l->size);
    blob_key_original(img->sha256, okey, sizeof okey);
    if (blob_local(app->blobs, okey, src, sizeof src) != BLOB_OK) {
        snprintf(why, whylen, "the original could not be read");
        goto out;
    }
    rc = edge < 0 ? IMG_EGENERIC
                  : img_render(src, edge, copyright, l->id,
                               app->cfg.decode_deadline_ms, &buf, ierr);
    blob_local_done(app->blobs, okey);
    if (rc != IMG_OK) {
        snprintf(why, whylen, "render: %s", edge < 0 ? "size" : ierr);
        rc = -1;
        goto out;
    }
    rc = -1;
    blob_sha256_bytes(buf.data, buf.len, sha);
    /* Two first downloads at once make identical bytes: either write wins
     * and both record the same digest. */
    if (blob_put_bytes(app->blobs, key, buf.data, buf.len) < 0 ||
        ledger_licence_set_file(app->db, l->id, sha, err) != DB_OK) {
        snprintf(why, whylen, "store: %s", err);
        goto out;
    }
    rc = 0;
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

    if (rc != DB_OK || strcmp(l->buyer_id, srv_req_user(r)->id) != 0) {
        srv_error(r, 404, "not_found", "You hold no such licence.");
        return -1;
    }
    return 0;
}

void
licences_download(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_licence l;
    char key[256], sha[65], why[300] = "", disp[200];
    uint64_t size;
    int fd;

    if (own_licence(r, &l) < 0)
        return;
    if (l.refunded_at) {
        srv_error(r, 410, "licence_refunded", "This licence was refunded.");
        return;
    }
    if (licensed_file(app, &l, key, sha, why, sizeof why) < 0 ||
        blob_open_read(app->blobs, key, &fd, &size) < 0) {
        log_error("%s: licensed file %s: %s", srv_req_id(r), l.id, why);
        if (!strcmp(blob_health(app->blobs), "degraded")) {
            srv_header(r, "Retry-After", "10");
            srv_error(r, 503, "storage_unavailable",
                      "The file store cannot be reached; try again shortly.");
            return;
        }
        srv_error(r, 500, "internal", "The licensed file could not be made.");
        return;
    }
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
    char err[DB_ERR_LEN], key[256], sha[65], why[300], issued[32];
    char sig64[128], pk64[64];
    char *text = NULL;
    json_t *cert;

    if (ledger_licence_get(app->db, srv_req_param(r, 0), &l, err) != DB_OK ||
        acc_user_get(app->db, l.buyer_id, &buyer, err) != DB_OK ||
        cat_image_get(app->db, l.image_id, &img, err) != DB_OK) {
        srv_error(r, 404, "not_found", "There is no such licence.");
        goto out;
    }
    if (licensed_file(app, &l, key, sha, why, sizeof why) < 0) {
        log_error("%s: licensed file %s: %s", srv_req_id(r), l.id, why);
        srv_error(r, 500, "internal", "The certificate could not be made.");
        goto out;
    }
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
        srv_error(r, 500, "internal", "The certificate could not be made.");
        goto out;
    }
    crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text),
                         app->sign_sk);
    b64(sig, sizeof sig, sig64, sizeof sig64);
    b64(app->sign_pk, sizeof app->sign_pk, pk64, sizeof pk64);
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

    b64(app->sign_pk, sizeof app->sign_pk, pk64, sizeof pk64);
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
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    log_info("%s: licence %s refunded by %s", srv_req_id(r), l.id,
             srv_req_user(r)->id);
    srv_json(r, 200, licence_json(&l, 1));
}

/* ---- earnings and payouts ---------------------------------------------- */

void
earnings_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_earnings e;
    size_t n_tiers;
    const struct ledger_tier *t = tiers(app, &n_tiers);
    char err[DB_ERR_LEN], when[32];
    json_t *by_image, *by_month, *sales, *j;
    int rc =
        ledger_earnings(app->db, srv_req_user(r)->id, t, n_tiers, 100, &e, err);

    if (reply_ledger_error(r, rc, err) < 0)
        return;
    by_image = json_array();
    for (size_t i = 0; i < e.n_by_image; i++)
        json_array_append_new(
            by_image,
            json_pack("{s:s,s:I,s:I}", "image_id", e.by_image[i].image_id,
                      "licences", (json_int_t)e.by_image[i].licences, "cents",
                      (json_int_t)e.by_image[i].cents));
    by_month = json_array();
    for (size_t i = 0; i < e.n_by_month; i++)
        json_array_append_new(
            by_month, json_pack("{s:s,s:I,s:I}", "month", e.by_month[i].month,
                                "licences", (json_int_t)e.by_month[i].licences,
                                "cents", (json_int_t)e.by_month[i].cents));
    sales = json_array();
    for (size_t i = 0; i < e.n_sales; i++) {
        const struct ledger_licence *s = &e.sales[i];

        app_iso_time(s->created_at, when);
        json_array_append_new(
            sales,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:I,s:b}", "licence_id",
                      s->id, "date", when, "image_id", s->image_id, "size",
                      s->size, "type", s->type, "credits",
                      (json_int_t)s->credits, "cash_cents",
                      (json_int_t)s->cash_cents, "royalty_rate_bp", s->rate_bp,
                      "share_cents", (json_int_t)s->royalty_cents, "refunded",
                      s->refunded_at != 0));
    }
    j = json_pack("{s:I,s:I,s:I,s:I,s:i,s:o,s:I,s:o,s:o,s:o}", "balance_cents",
                  (json_int_t)e.balance_cents, "pending_cents",
                  (json_int_t)e.pending_cents, "lifetime_cents",
                  (json_int_t)e.lifetime_cents, "licences_sold",
                  (json_int_t)e.licences_sold, "royalty_rate_bp",
                  e.royalty_rate_bp, "next_tier",
                  e.has_next_tier ? json_pack("{s:i,s:I}", "royalty_rate_bp",
                                              e.next_rate_bp, "licences_to_go",
                                              (json_int_t)e.next_tier_left)
                                  : json_null(),
                  "payout_minimum_cents", (json_int_t)app->cfg.payout_min_cents,
                  "by_image", by_image, "by_month", by_month, "sales", sales);
    ledger_earnings_release(&e);
    srv_json(r, 200, j);
}

static json_t *
payout_json(const struct ledger_payout *p)
{
    char when[32], settled[32];

    app_iso_time(p->requested_at, when);
    app_iso_time(p->settled_at, settled);
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "id", p->id, "contributor_id",
                     p->contributor_id, "amount_cents",
                     (json_int_t)p->amount_cents, "status", p->status,
                     "requested_at", when, "settled_at",
                     p->settled_at ? json_string(settled) : json_null());
}

void
payouts_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *key = srv_req_header(r, "Idempotency-Key");
    struct ledger_payout p;
    char err[DB_ERR_LEN];
    int64_t amount;
    int rc;

    if (srv_field_int(r, "amount_cents", 1, LEDGER_MAX_CENTS, 0, &amount) < 0)
        return;
    if (key && (strlen(key) >= LEDGER_KEY_LEN || !text_ok(key))) {
        srv_error(r, 400, "invalid_idempotency_key",
                  "The Idempotency-Key "
                  "is too long.");
        return;
    }
    rc = ledger_payout_request(app->db, srv_req_user(r)->id, amount,
                               app->cfg.payout_min_cents, key, &p, err);
    if (rc == DB_EINVAL) {
        srv_error(r, 422, "below_minimum",
                  "Payouts start at %lld.%02lld "
                  "dollars.",
                  (long long)app->cfg.payout_min_cents / 100,
                  (long long)app->cfg.payout_min_cents % 100);
        return;
    }
    if (rc == DB_EFUNDS) {
        srv_error(r, 422, "insufficient_balance",
                  "That is more than your "
                  "available balance.");
        return;
    }
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    srv_json(r, 201, payout_json(&p));
}

static void
payouts_reply(struct srv_req *r, const char *contributor)
{
    struct ledger_payout_list l = {0};
    const char *status = srv_req_query(r, "status");
    char err[DB_ERR_LEN];
    json_t *a;
    int rc = ledger_payouts(srv_req_app(r)->db, contributor,
                            status && *status ? status : NULL,
                            srv_req_query(r, "cursor"), 100, &l, err);

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_parameter", "Bad cursor or status.");
        return;
    }
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a, payout_json(&l.items[i]));
    srv_json(
        r, 200,
        json_pack("{s:o,s:o}", "items", a, "next_cursor",
                  l.next_cursor[0] ? json_string(l.next_cursor) : json_null()));
    ledger_payout_list_release(&l);
}

void
payouts_mine(struct srv_req *r)
{
    payouts_reply(r, srv_req_user(r)->id);
}

void
payouts_all(struct srv_req *r)
{
    payouts_reply(r, NULL);
}

void
payouts_settle(struct srv_req *r)
{
    struct ledger_payout p;
    const char *status;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "status", 1, 12, 0, &status) < 0)
        return;
    if (strcmp(status, "paid") != 0 && strcmp(status, "failed") != 0) {
        srv_error(r, 422, "invalid_field",
                  "'status' must be paid or "
                  "failed.");
        return;
    }
    rc = ledger_payout_settle(srv_req_app(r)->db, srv_req_param(r, 0),
                              !strcmp(status, "paid"), &p, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_requested",
                  "This payout is settled "
                  "already.");
        return;
    }
    if (reply_ledger_error(r, rc, err) < 0)
        return;
    srv_json(r, 200, payout_json(&p));
}

void
ledger_verify_get(struct srv_req *r)
{
    char err[DB_ERR_LEN];
    char *report = NULL;
    int rc = ledger_verify(srv_req_app(r)->db, &report, err);

    if (rc != DB_OK && rc != DB_ECONFLICT) {
        srv_error(r, 500, "internal", "The books could not be checked: %s.",
                  err);
        return;
    }
    srv_json(r, 200,
             json_pack("{s:b,s:s}", "ok", rc == DB_OK, "report",
                       report ? report : ""));
    free(report);
}
