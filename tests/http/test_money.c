/* Stockroom — money over HTTP: credit packs, purchases and their
 * idempotency, licences, licensed downloads, signed certificates, earnings
 * and the exact split, payouts, refunds, races, and the books checked by
 * the admin route and by `stockroom ledger verify` at the end. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define IMAGE "real/17-plasma-BytheWater-2560x1600.jpg" /* 2560 x 1600 */
#define PENDING_IMAGE "real/18-plasma-Grey-2560x1600.jpg"
#define GPS_IMAGE "real/21-forensics-IMG_1054.JPG" /* 1280 x 960 */

static struct th_server srv;
static char admin_tok[128];
static char contrib_tok[128];
static char image_id[64];   /* approved, for sale */
static char gps_id[64];     /* approved; its original has GPS */
static char pending_id[64]; /* uploaded, never reviewed */

/* Ask for a licence; key NULL: a fresh one. The caller frees r. */
static void
licence_req(const char *token, const char *image, const char *size,
            const char *type, const char *key, struct th_resp *r)
{
    char k[64], body[256];

    if (!key) {
        kit_fresh_key(k, "lic");
        key = k;
    }
    snprintf(body, sizeof body,
             "{\"image_id\":\"%s\",\"size\":\"%s\","
             "\"type\":\"%s\"}",
             image, size, type);
    kit_call("POST", "/api/v1/licences", token, key, body, r);
}

/* A licence that must succeed; its id into id (may be NULL). */
static void
licence_ok(const char *token, const char *size, const char *type, char id[64])
{
    struct th_resp r;

    licence_req(token, image_id, size, type, NULL, &r);
    kit_expect(&r, 201, NULL, "licence");
    if (id)
        snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

/* The contributor's earnings; the caller decrefs. */
static json_t *
earnings(void)
{
    struct th_resp r;
    json_t *j;

    kit_call("GET", "/api/v1/me/earnings", contrib_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "earnings");
    j = json_incref(r.json);
    th_resp_free(&r);
    return j;
}

static json_int_t
balance(void)
{
    json_t *e = earnings();
    json_int_t b = kit_jint(e, "balance_cents");

    json_decref(e);
    return b;
}

/* Request a payout; returns the status, the payout id into id. */
static long
payout(const char *token, json_int_t cents, char id[64], const char *code)
{
    char body[64];
    struct th_resp r;
    long st;

    snprintf(body, sizeof body, "{\"amount_cents\":%lld}", (long long)cents);
    kit_call("POST", "/api/v1/payouts", token, NULL, body, &r);
    st = r.status;
    if (code)
        kit_expect(&r, r.status, code, "payout error code");
    if (st == 201 && id)
        snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    return st;
}

static void
settle(const char *payout_id, const char *status, long want, const char *code)
{
    char path[128], body[64];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/payouts/%s", payout_id);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    kit_call("PATCH", path, admin_tok, NULL, body, &r);
    kit_expect(&r, want, code, "settle payout");
    if (want == 200)
        assert_string_equal(kit_jstr(r.json, "status"), status);
    th_resp_free(&r);
}

/* A buyer who spends 100-credit packs ($1.10 a credit) on XL extended
 * licences (36 credits, cash 3960, royalty 990 at 25%). */
static char whale_tok[128];
static json_int_t whale_left;

static void
earn_at_least(json_int_t cents)
{
    while (balance() < cents) {
        if (whale_left < 36) {
            kit_buy(whale_tok, "100", NULL);
            whale_left += 100;
        }
        licence_ok(whale_tok, "XL", "extended", NULL);
        whale_left -= 36;
    }
}

/* ---- setup -------------------------------------------------------------- */

static int
upload(const char *rel, char id[64])
{
    char path[512];
    const char *fields[] = {"title", "By the water", "keywords",
                            "water, lake, evening", NULL};
    struct th_resp r;

    if (th_upload(&srv, "/api/v1/images", contrib_tok,
                  th_corpus(rel, path, sizeof path), "photo.jpg", fields,
                  &r) < 0 ||
        r.status != 202) {
        fprintf(stderr, "upload %s: %ld %s\n", rel, r.status,
                r.body ? r.body : "");
        th_resp_free(&r);
        return -1;
    }
    snprintf(id, 64, "%s", json_string_value(json_object_get(r.json, "id")));
    th_resp_free(&r);
    return 0;
}

static int
setup(void **state)
{
    const char *const flags[] = {"--min-megapixels", "0.01", NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    if (sodium_init() < 0 || th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    kit_staff("admin", "admin", admin_tok);
    kit_new_user("contributor", contrib_tok);
    kit_new_user("whale", whale_tok);
    if (upload(IMAGE, image_id) < 0 || upload(GPS_IMAGE, gps_id) < 0 ||
        upload(PENDING_IMAGE, pending_id) < 0)
        return -1;
    kit_approve(contrib_tok, admin_tok, image_id);
    kit_approve(contrib_tok, admin_tok, gps_id);
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv), v;

    (void)state;
    if (rc != 0)
        fprintf(stderr, "the server did not stop cleanly: %d\n", rc);
    v = tu_ledger_verify(srv.dir);
    if (v != 0)
        fprintf(stderr, "stockroom ledger verify exited %d\n", v);
    th_cleanup(&srv);
    curl_global_cleanup();
    return rc != 0 || v != 0 ? -1 : 0;
}

/* ---- packs and purchases ------------------------------------------------ */

static void
test_packs(void **state)
{
    struct th_resp r;
    json_t *items;
    const json_int_t want[3][2] = {{10, 1500}, {30, 3900}, {100, 11000}};

    (void)state;
    kit_call("GET", "/api/v1/credits/packs", NULL, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "packs");
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(items, i);
        char id[16];

        snprintf(id, sizeof id, "%lld", (long long)want[i][0]);
        assert_string_equal(kit_jstr(p, "id"), id);
        assert_int_equal(kit_jint(p, "credits"), want[i][0]);
        assert_int_equal(kit_jint(p, "price_cents"), want[i][1]);
    }
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    th_resp_free(&r);
}

static void
test_purchase_idempotency(void **state)
{
    char tok[128], key[64], first[64];
    struct th_resp r;

    (void)state;
    th_new_user(&srv, "packbuyer", tok);
    assert_int_equal(kit_credits(tok), 0);
    kit_call("POST", "/api/v1/credits/purchases", tok, NULL,
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 400, "missing_idempotency_key", "no key");
    th_resp_free(&r);
    kit_fresh_key(key, "p");
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"11\"}",
             &r);
    kit_expect(&r, 422, "unknown_pack", "unknown pack");
    th_resp_free(&r);
    kit_call("POST", "/api/v1/credits/purchases", NULL, key,
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 401, "unauthenticated", "anonymous purchase");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 0);

    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"10\"}",
             &r);
    kit_expect(&r, 201, NULL, "purchase");
    snprintf(first, sizeof first, "%s", kit_jstr(r.json, "purchase_id"));
    assert_int_equal(kit_jint(r.json, "credits"), 10);
    assert_int_equal(kit_jint(r.json, "price_cents"), 1500);
    assert_int_equal(kit_jint(r.json, "balance"), 10);
    assert_string_equal(kit_jstr(r.json, "status"), "settled");
    th_resp_free(&r);
    /* A retry: the same purchase, charged once. */
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"10\"}",
             &r);
    kit_expect(&r, 201, NULL, "purchase replay");
    assert_string_equal(kit_jstr(r.json, "purchase_id"), first);
    assert_int_equal(kit_jint(r.json, "balance"), 10);
    th_resp_free(&r);
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"30\"}",
             &r);
    kit_expect(&r, 409, "idempotency_key_reused", "same key, other pack");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 10);
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my purchases");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(r.json, "items"), 0),
                 "purchase_id"),
        first);
    th_resp_free(&r);
}

/* ---- licences ----------------------------------------------------------- */

static char lic_buyer[128]; /* holds lic_s and lic_xl */
static char lic_buyer_id[64];
static char lic_s[64], lic_xl[64];

static void
test_licence_rules(void **state)
{
    char key[64], other[64];
    struct th_resp r;

    (void)state;
    th_new_user(&srv, "licbuyer", lic_buyer);
    kit_my_id(lic_buyer, lic_buyer_id);
    /* No wallet at all yet. */
    licence_req(lic_buyer, image_id, "S", "standard", NULL, &r);
    kit_expect(&r, 402, "insufficient_credits", "licence without credits");
    th_resp_free(&r);
    kit_buy(lic_buyer, "10", NULL);

    licence_req(lic_buyer, image_id, "L", "standard", NULL, &r);
    kit_expect(&r, 422, "size_not_offered", "L of a 2560 px image");
    th_resp_free(&r);
    licence_req(lic_buyer, pending_id, "S", "standard", NULL, &r);
    kit_expect(&r, 404, "not_found", "an image not approved");
    th_resp_free(&r);
    licence_req(lic_buyer, "i0000000000000000", "S", "standard", NULL, &r);
    kit_expect(&r, 404, "not_found", "no such image");
    th_resp_free(&r);
    kit_call("POST", "/api/v1/licences", lic_buyer, NULL,
             "{\"image_id\":\"x\",\"size\":\"S\"}", &r);
    kit_expect(&r, 400, "missing_idempotency_key", "licence without a key");
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 10);

    kit_fresh_key(key, "lic");
    licence_req(lic_buyer, image_id, "S", "standard", key, &r);
    kit_expect(&r, 201, NULL, "licence S");
    snprintf(lic_s, sizeof lic_s, "%s", kit_jstr(r.json, "id"));
    assert_string_equal(kit_jstr(r.json, "image_id"), image_id);
    assert_string_equal(kit_jstr(r.json, "size"), "S");
    assert_string_equal(kit_jstr(r.json, "type"), "standard");
    assert_int_equal(kit_jint(r.json, "credits"), 1);
    assert_false(json_is_true(json_object_get(r.json, "already_held")));
    assert_non_null(strstr(kit_jstr(r.json, "download_url"), lic_s));
    assert_non_null(strstr(kit_jstr(r.json, "certificate_url"), lic_s));
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);

    /* The same request again: the same licence, nothing charged. */
    licence_req(lic_buyer, image_id, "S", "standard", key, &r);
    kit_expect(&r, 201, NULL, "licence replay");
    assert_string_equal(kit_jstr(r.json, "id"), lic_s);
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);
    licence_req(lic_buyer, image_id, "XL", "standard", key, &r);
    kit_expect(&r, 409, "idempotency_key_reused", "same key, other size");
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);

    /* Licensing again is allowed, and said. */
    licence_req(lic_buyer, image_id, "S", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "second S licence");
    assert_true(json_is_true(json_object_get(r.json, "already_held")));
    snprintf(other, sizeof other, "%s", kit_jstr(r.json, "id"));
    assert_string_not_equal(other, lic_s);
    th_resp_free(&r);

    licence_ok(lic_buyer, "XL", "standard", lic_xl);
    assert_int_equal(kit_credits(lic_buyer), 10 - 1 - 1 - 6);
    licence_req(lic_buyer, image_id, "M", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence M");
    th_resp_free(&r);
    licence_req(lic_buyer, image_id, "S", "extended", NULL, &r);
    kit_expect(&r, 402, "insufficient_credits", "extended with 0 credits");
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 0);

    kit_call("GET", "/api/v1/me/licences", lic_buyer, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my licences");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 4);
    /* Newest first. */
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(r.json, "items"), 3), "id"),
        lic_s);
    th_resp_free(&r);
}

/* Download a licence as token; the caller frees r. */
static void
download(const char *token, const char *id, struct th_resp *r)
{
    char path[160];

    snprintf(path, sizeof path, "/api/v1/licences/%s/download", id);
    kit_call("GET", path, token, NULL, NULL, r);
}

static void
check_file(const char *id, int edge, int ow, int oh, unsigned char sha[32])
{
    struct th_resp r;
    char disp[300];
    struct iu_jpeg jp;

    download(lic_buyer, id, &r);
    kit_expect(&r, 200, NULL, "download");
    assert_non_null(th_header(&r, "Content-Disposition", disp, sizeof disp));
    assert_non_null(strstr(disp, "attachment"));
    assert_non_null(strstr(disp, id));
    assert_int_equal(iu_jpeg_parse(r.body, r.len, &jp), 0);
    assert_int_equal(jp.width > jp.height ? jp.width : jp.height, edge);
    assert_true(abs(jp.width * oh - jp.height * ow) <= (ow > oh ? ow : oh));
    /* The licence id is in the file's metadata; the position never. */
    assert_non_null(memmem(r.body, r.len, id, strlen(id)));
    assert_false(jp.has_gps);
    crypto_hash_sha256(sha, (unsigned char *)r.body, r.len);
    th_resp_free(&r);
    /* Again, the same bytes. */
    download(lic_buyer, id, &r);
    kit_expect(&r, 200, NULL, "download again");
    {
        unsigned char again[32];

        crypto_hash_sha256(again, (unsigned char *)r.body, r.len);
        assert_memory_equal(sha, again, 32);
    }
    th_resp_free(&r);
}

static void
test_download(void **state)
{
    unsigned char sha[32];
    char other[128], s_gps[64], xl_gps[64], path[512];
    struct th_resp r;
    FILE *f;
    unsigned char *orig = malloc(4 << 20);
    size_t n;
    struct iu_jpeg jp;

    (void)state;
    assert_true(lic_s[0] && lic_xl[0]);
    check_file(lic_s, 1024, 2560, 1600, sha);
    check_file(lic_xl, 2560, 2560, 1600, sha);
    /* The original of this one has a GPS position: the licensed files
     * must not. */
    assert_non_null(orig);
    f = fopen(th_corpus(GPS_IMAGE, path, sizeof path), "rb");
    assert_non_null(f);
    n = fread(orig, 1, 4 << 20, f);
    fclose(f);
    assert_int_equal(iu_jpeg_parse(orig, n, &jp), 0);
    assert_true(jp.has_gps);
    free(orig);
    kit_buy(lic_buyer, "10", NULL);
    licence_req(lic_buyer, gps_id, "M", "standard", NULL, &r);
    kit_expect(&r, 422, "size_not_offered", "M of a 1280 px image");
    th_resp_free(&r);
    licence_req(lic_buyer, gps_id, "S", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence S");
    snprintf(s_gps, sizeof s_gps, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    licence_req(lic_buyer, gps_id, "XL", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence XL");
    snprintf(xl_gps, sizeof xl_gps, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    check_file(s_gps, 1024, 1280, 960, sha);
    check_file(xl_gps, 1280, 1280, 960, sha);

    download(NULL, lic_s, &r);
    kit_expect(&r, 401, "unauthenticated", "anonymous download");
    th_resp_free(&r);
    th_new_user(&srv, "stranger", other);
    download(other, lic_s, &r);
    kit_expect(&r, 404, "not_found", "someone else's licence");
    th_resp_free(&r);
    download(contrib_tok, lic_s, &r);
    kit_expect(&r, 404, "not_found", "the contributor is not the licensee");
    th_resp_free(&r);
    download(lic_buyer, "l00000000000000000000000000000000", &r);
    kit_expect(&r, 404, "not_found", "no such licence");
    th_resp_free(&r);
}

static int
b64_decode(const char *s, unsigned char *out, size_t cap, size_t *len)
{
    return sodium_base642bin(out, cap, s, strlen(s), NULL, len, NULL,
                             sodium_base64_VARIANT_ORIGINAL);
}

/* GET /licences/verify for this text and signature: "valid". */
static int
verify_remote(const char *text, const char *sig)
{
    char *t = curl_easy_escape(NULL, text, 0);
    char *s = curl_easy_escape(NULL, sig, 0);
    char *path = malloc(strlen(t) + strlen(s) + 64);
    struct th_resp r;
    int valid;

    sprintf(path, "/api/v1/licences/verify?signed_text=%s&signature=%s", t, s);
    kit_call("GET", path, NULL, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "verify");
    valid = json_is_true(json_object_get(r.json, "valid"));
    th_resp_free(&r);
    free(path);
    curl_free(t);
    curl_free(s);
    return valid;
}

static void
test_certificate(void **state)
{
    unsigned char sha[32], pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    char hex[65], path[160], *tampered;
    const char *text, *sig64;
    size_t len = 0;
    struct th_resp r, k, d;
    json_t *cert;

    (void)state;
    download(lic_buyer, lic_xl, &d);
    kit_expect(&d, 200, NULL, "download");
    crypto_hash_sha256(sha, (unsigned char *)d.body, d.len);
    sodium_bin2hex(hex, sizeof hex, sha, sizeof sha);
    th_resp_free(&d);

    snprintf(path, sizeof path, "/api/v1/licences/%s/certificate", lic_xl);
    kit_call("GET", path, NULL, NULL, NULL, &r); /* anyone with the id */
    kit_expect(&r, 200, NULL, "certificate");
    cert = json_object_get(r.json, "certificate");
    assert_string_equal(kit_jstr(cert, "licence_id"), lic_xl);
    assert_string_equal(kit_jstr(cert, "size"), "XL");
    assert_string_equal(kit_jstr(cert, "type"), "standard");
    assert_string_equal(kit_jstr(json_object_get(cert, "licensee"), "id"),
                        lic_buyer_id);
    assert_string_equal(kit_jstr(json_object_get(cert, "image"), "id"),
                        image_id);
    assert_string_equal(kit_jstr(cert, "file_sha256"), hex);
    assert_true(strlen(kit_jstr(cert, "terms_version")) > 0);
    assert_true(strlen(kit_jstr(cert, "date")) >= 10);
    assert_string_equal(kit_jstr(r.json, "algorithm"), "Ed25519");
    assert_false(json_is_true(json_object_get(r.json, "refunded")));

    /* Offline: the signature over exactly signed_text, with the key. */
    text = kit_jstr(r.json, "signed_text");
    sig64 = kit_jstr(r.json, "signature");
    assert_int_equal(
        b64_decode(kit_jstr(r.json, "public_key"), pk, sizeof pk, &len), 0);
    assert_int_equal(len, sizeof pk);
    assert_int_equal(b64_decode(sig64, sig, sizeof sig, &len), 0);
    assert_int_equal(len, sizeof sig);
    assert_int_equal(crypto_sign_verify_detached(
                         sig, (const unsigned char *)text, strlen(text), pk),
                     0);
    {
        json_t *parsed = json_loads(text, 0, NULL);

        assert_non_null(parsed);
        assert_true(json_equal(parsed, cert));
        json_decref(parsed);
    }
    kit_call("GET", "/api/v1/licences/public-key", NULL, NULL, NULL, &k);
    kit_expect(&k, 200, NULL, "public key");
    assert_string_equal(kit_jstr(k.json, "public_key"),
                        kit_jstr(r.json, "public_key"));
    th_resp_free(&k);

    assert_true(verify_remote(text, sig64));
    tampered = strdup(text);
    {
        char *p = strstr(tampered, "\"XL\"");

        assert_non_null(p);
        memcpy(p, "\"S\" ", 4);
    }
    assert_int_not_equal(
        crypto_sign_verify_detached(sig, (const unsigned char *)tampered,
                                    strlen(tampered), pk),
        0);
    assert_false(verify_remote(tampered, sig64));
    free(tampered);
    th_resp_free(&r);
}

/* ---- earnings ----------------------------------------------------------- */

static void
test_earnings_split(void **state)
{
    char tok[128], id[64];
    json_t *before, *after, *sales, *sale = NULL;
    json_int_t sold;

    (void)state;
    th_new_user(&srv, "splitbuyer", tok);
    kit_buy(tok, "10", NULL);
    before = earnings();
    sold = kit_jint(before, "licences_sold");
    assert_true(sold < 100); /* still in the 25% tier */
    licence_ok(tok, "S", "standard", id);
    /* The sale is there at once, split exactly: $15 / 10 credits = 150
     * cents; floor(150 * 2500 / 10000) = 37 to the contributor. */
    after = earnings();
    assert_int_equal(kit_jint(after, "balance_cents") -
                         kit_jint(before, "balance_cents"),
                     37);
    assert_int_equal(kit_jint(after, "lifetime_cents") -
                         kit_jint(before, "lifetime_cents"),
                     37);
    assert_int_equal(kit_jint(after, "licences_sold"), sold + 1);
    assert_int_equal(kit_jint(after, "royalty_rate_bp"), 2500);
    sales = json_object_get(after, "sales");
    for (size_t i = 0; i < json_array_size(sales); i++) {
        if (!strcmp(kit_jstr(json_array_get(sales, i), "licence_id"), id))
            sale = json_array_get(sales, i);
    }
    assert_non_null(sale);
    assert_int_equal(kit_jint(sale, "credits"), 1);
    assert_int_equal(kit_jint(sale, "cash_cents"), 150);
    assert_int_equal(kit_jint(sale, "royalty_rate_bp"), 2500);
    assert_int_equal(kit_jint(sale, "share_cents"), 37);
    assert_string_equal(kit_jstr(sale, "image_id"), image_id);
    assert_false(json_is_true(json_object_get(sale, "refunded")));
    json_decref(before);
    json_decref(after);
}

/* ---- payouts ------------------------------------------------------------ */

static void
test_payouts(void **state)
{
    char id[64], buyer[128];
    json_int_t b;
    json_t *e;
    struct th_resp r;

    (void)state;
    earn_at_least(2600);
    b = balance();
    assert_int_equal(payout(contrib_tok, 2499, NULL, "below_minimum"), 422);
    assert_int_equal(payout(contrib_tok, b + 1, NULL, "insufficient_balance"),
                     422);
    assert_int_equal(balance(), b);

    /* Requested, then failed: the money comes back. */
    assert_int_equal(payout(contrib_tok, 2500, id, NULL), 201);
    e = earnings();
    assert_int_equal(kit_jint(e, "balance_cents"), b - 2500);
    assert_true(kit_jint(e, "pending_cents") >= 2500);
    json_decref(e);
    th_new_user(&srv, "notadmin", buyer);
    {
        char path[128];

        snprintf(path, sizeof path, "/api/v1/payouts/%s", id);
        kit_call("PATCH", path, buyer, NULL, "{\"status\":\"paid\"}", &r);
        kit_expect(&r, 403, "forbidden", "a non-admin settles a payout");
        th_resp_free(&r);
        kit_call("PATCH", path, contrib_tok, NULL, "{\"status\":\"paid\"}", &r);
        kit_expect(&r, 403, "forbidden",
                   "the contributor settles their payout");
        th_resp_free(&r);
    }
    kit_call("GET", "/api/v1/payouts?status=requested", contrib_tok, NULL, NULL,
             &r);
    kit_expect(&r, 403, "forbidden", "a non-admin lists all payouts");
    th_resp_free(&r);
    kit_call("GET", "/api/v1/payouts?status=requested", admin_tok, NULL, NULL,
             &r);
    kit_expect(&r, 200, NULL, "admin lists payouts");
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    th_resp_free(&r);
    settle(id, "failed", 200, NULL);
    assert_int_equal(balance(), b);
    settle(id, "paid", 409, "not_requested");

    /* Requested, then paid: gone from the balance for good. */
    assert_int_equal(payout(contrib_tok, 2500, id, NULL), 201);
    settle(id, "paid", 200, NULL);
    settle(id, "failed", 409, "not_requested");
    assert_int_equal(balance(), b - 2500);
    kit_call("GET", "/api/v1/me/payouts", contrib_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my payouts");
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(r.json, "items"), 0), "status"),
        "paid");
    th_resp_free(&r);
}

struct racer {
    json_int_t amount;
    long status;
    char code[64];
};

static void *
race_payout(void *arg)
{
    struct racer *p = arg;
    char body[64], auth[200];
    const char *h[2] = {th_bearer(contrib_tok, auth, sizeof auth), NULL};
    struct th_resp r;

    snprintf(body, sizeof body, "{\"amount_cents\":%lld}",
             (long long)p->amount);
    p->status =
        th_req(&srv, "POST", "/api/v1/payouts", h, body, strlen(body), &r) < 0
            ? -1
            : r.status;
    snprintf(p->code, sizeof p->code, "%s",
             p->status > 0 ? th_error_code(&r) : "");
    th_resp_free(&r);
    return NULL;
}

static void
test_racing_payouts(void **state)
{
    enum { N = 4 };
    struct racer p[N];
    pthread_t t[N];
    json_int_t b;
    int ok = 0;

    (void)state;
    earn_at_least(5200);
    b = balance();
    /* Each alone fits; no two together do. */
    for (int i = 0; i < N; i++) {
        p[i].amount = b / 2 + 1;
        assert_int_equal(pthread_create(&t[i], NULL, race_payout, &p[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_true(
            p[i].status == 201 ||
            (p[i].status == 422 && !strcmp(p[i].code, "insufficient_balance")));
        ok += p[i].status == 201;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(balance(), b - (b / 2 + 1));
}

/* ---- refunds ------------------------------------------------------------ */

/* Refund a licence as token; want the status and, for a refusal, code. */
static void
refund(const char *token, const char *licence_id, long want, const char *code)
{
    char path[160];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/licences/%s/refund", licence_id);
    kit_call("POST", path, token, NULL, NULL, &r);
    kit_expect(&r, want, code, "refund a licence");
    th_resp_free(&r);
}

static void
test_licence_refund(void **state)
{
    char tok[128], id[64];
    json_int_t b;
    struct th_resp r;

    (void)state;
    th_new_user(&srv, "refundbuyer", tok);
    kit_buy(tok, "10", NULL);
    b = balance();
    licence_ok(tok, "M", "standard", id);
    assert_int_equal(kit_credits(tok), 8);
    /* 2 credits of 150 cents: 300, a quarter floored is 75. */
    assert_int_equal(balance(), b + 75);
    refund(tok, id, 403, "forbidden");
    refund(contrib_tok, id, 403, "forbidden");
    assert_int_equal(kit_credits(tok), 8);
    refund(admin_tok, id, 200, NULL);
    assert_int_equal(kit_credits(tok), 10);
    assert_int_equal(balance(), b);
    refund(admin_tok, id, 409, "already_refunded");
    assert_int_equal(kit_credits(tok), 10);
    refund(admin_tok, "l0000000000000000000000000000000", 404, "not_found");
    download(tok, id, &r);
    kit_expect(&r, 410, "licence_refunded", "download a refunded licence");
    th_resp_free(&r);
    {
        json_t *e = earnings(), *sales = json_object_get(e, "sales");
        int seen = 0;

        for (size_t i = 0; i < json_array_size(sales); i++) {
            json_t *s = json_array_get(sales, i);

            if (!strcmp(kit_jstr(s, "licence_id"), id)) {
                seen = 1;
                assert_true(json_is_true(json_object_get(s, "refunded")));
            }
        }
        assert_true(seen);
        json_decref(e);
    }
    /* The credits spend again at their value. */
    licence_ok(tok, "M", "standard", NULL);
    assert_int_equal(balance(), b + 75);
}

static void
test_refund_after_payout(void **state)
{
    char id[64], pid[64], tok[128];
    json_int_t b;

    (void)state;
    earn_at_least(2500);
    /* The whale's next sale, then everything paid out. */
    if (whale_left < 36) {
        kit_buy(whale_tok, "100", NULL);
        whale_left += 100;
    }
    licence_ok(whale_tok, "XL", "extended", id);
    whale_left -= 36;
    b = balance();
    assert_true(b >= 2500);
    assert_int_equal(payout(contrib_tok, b, pid, NULL), 201);
    settle(pid, "paid", 200, NULL);
    assert_int_equal(balance(), 0);
    /* The refund takes the royalty back: the balance goes below zero. */
    refund(admin_tok, id, 200, NULL);
    assert_int_equal(balance(), -990);
    assert_int_equal(payout(contrib_tok, 2500, NULL, "insufficient_balance"),
                     422);
    /* Later sales make it good. */
    th_new_user(&srv, "recoverbuyer", tok);
    kit_buy(tok, "10", NULL);
    licence_ok(tok, "S", "standard", NULL);
    assert_int_equal(balance(), -990 + 37);
}

static void
test_pack_refund(void **state)
{
    char tok[128], used[64], unused[64], path[160];
    struct th_resp r;

    (void)state;
    th_new_user(&srv, "packrefund", tok);
    kit_buy(tok, "10", used);
    licence_ok(tok, "S", "standard", NULL);
    kit_buy(tok, "30", unused);
    assert_int_equal(kit_credits(tok), 39);
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my purchases");
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_array_get(json_object_get(r.json, "items"), i);

        assert_int_equal(json_is_true(json_object_get(p, "refundable")),
                         !strcmp(kit_jstr(p, "purchase_id"), unused));
    }
    th_resp_free(&r);

    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", used);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 409, "not_refundable", "refund a used pack");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", unused);
    kit_call("POST", path, whale_tok, NULL, NULL, &r);
    kit_expect(&r, 404, "not_found", "refund someone else's pack");
    th_resp_free(&r);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "refund an unused pack");
    assert_int_equal(kit_jint(r.json, "balance"), 9);
    assert_string_equal(kit_jstr(r.json, "status"), "refunded");
    th_resp_free(&r);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 409, "not_refundable", "refund a pack twice");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 9);
}

/* ---- races -------------------------------------------------------------- */

struct buyer_race {
    const char *token;
    const char *key; /* NULL: one of its own */
    int n;
    long status;
    char id[64];
    char code[64];
};

static void *
race_licence(void *arg)
{
    struct buyer_race *b = arg;
    char auth[200], idem[128], body[256];
    const char *h[3] = {th_bearer(b->token, auth, sizeof auth), idem, NULL};
    struct th_resp r;

    if (b->key)
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", b->key);
    else
        snprintf(idem, sizeof idem, "Idempotency-Key: race-%d-%d", getpid(),
                 b->n);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\",\"size\":\"S\"}",
             image_id);
    b->status = -1;
    if (th_req(&srv, "POST", "/api/v1/licences", h, body, strlen(body), &r) < 0)
        return NULL;
    b->status = r.status;
    snprintf(b->code, sizeof b->code, "%s", th_error_code(&r));
    if (r.status == 201 && r.json)
        snprintf(b->id, sizeof b->id, "%s",
                 json_string_value(json_object_get(r.json, "id")));
    th_resp_free(&r);
    return NULL;
}

static void
run_race(struct buyer_race *b, int n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);

    assert_non_null(t);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &b[i]), 0);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

static void
test_race_wallet(void **state)
{
    enum { N = 100 };
    static struct buyer_race b[N];
    char tok[128];
    int ok = 0, short_ = 0;
    json_int_t sold;
    json_t *e = earnings();

    (void)state;
    sold = kit_jint(e, "licences_sold");
    json_decref(e);
    th_new_user(&srv, "racer", tok);
    kit_buy(tok, "10", NULL);
    for (int i = 0; i < N; i++)
        b[i] = (struct buyer_race){.token = tok, .n = i};
    run_race(b, N);
    for (int i = 0; i < N; i++) {
        if (b[i].status != 201 &&
            (b[i].status != 402 || strcmp(b[i].code, "insufficient_credits")))
            fail_msg("racer %d: %ld %s", i, b[i].status, b[i].code);
        ok += b[i].status == 201;
        short_ += b[i].status == 402;
    }
    assert_int_equal(ok, 10);
    assert_int_equal(short_, N - 10);
    assert_int_equal(kit_credits(tok), 0);
    e = earnings();
    assert_int_equal(kit_jint(e, "licences_sold"), sold + 10);
    json_decref(e);
}

static void
test_race_same_key(void **state)
{
    enum { N = 20 };
    static struct buyer_race b[N];
    char tok[128], key[64];

    (void)state;
    th_new_user(&srv, "samekey", tok);
    kit_buy(tok, "10", NULL);
    kit_fresh_key(key, "same");
    for (int i = 0; i < N; i++)
        b[i] = (struct buyer_race){.token = tok, .key = key, .n = i};
    run_race(b, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(b[i].status, 201);
        assert_string_equal(b[i].id, b[0].id);
    }
    assert_int_equal(kit_credits(tok), 9);
}

/* ---- the books ---------------------------------------------------------- */

static void
test_books_balance(void **state)
{
    struct th_resp r;

    (void)state;
    kit_call("GET", "/api/v1/admin/ledger/verify", contrib_tok, NULL, NULL, &r);
    kit_expect(&r, 403, "forbidden", "a non-admin checks the books");
    th_resp_free(&r);
    kit_call("GET", "/api/v1/admin/ledger/verify", admin_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "verify");
    if (!json_is_true(json_object_get(r.json, "ok")))
        fail_msg("the books do not balance:\n%s", kit_jstr(r.json, "report"));
    assert_non_null(strstr(kit_jstr(r.json, "report"), "inv. 14 ok"));
    th_resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packs),
        cmocka_unit_test(test_purchase_idempotency),
        cmocka_unit_test(test_licence_rules),
        cmocka_unit_test(test_download),
        cmocka_unit_test(test_certificate),
        cmocka_unit_test(test_earnings_split),
        cmocka_unit_test(test_payouts),
        cmocka_unit_test(test_racing_payouts),
        cmocka_unit_test(test_licence_refund),
        cmocka_unit_test(test_refund_after_payout),
        cmocka_unit_test(test_pack_refund),
        cmocka_unit_test(test_race_wallet),
        cmocka_unit_test(test_race_same_key),
        cmocka_unit_test(test_books_balance),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
