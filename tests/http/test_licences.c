/* Stockroom — licences over HTTP: the rules of a sale and its
 * idempotency, licensed downloads (the size, no GPS, the licence id in the
 * file) and signed certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "moneyfix.h"
#include "util.h"

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
    th_new_user(&mf_srv, "licbuyer", lic_buyer);
    kit_my_id(lic_buyer, lic_buyer_id);
    /* No wallet at all yet. */
    mf_licence_req(lic_buyer, mf_image_id, "S", "standard", NULL, &r);
    kit_expect(&r, 402, "insufficient_credits", "licence without credits");
    th_resp_free(&r);
    kit_buy(lic_buyer, "10", NULL);

    mf_licence_req(lic_buyer, mf_image_id, "L", "standard", NULL, &r);
    kit_expect(&r, 422, "size_not_offered", "L of a 2560 px image");
    th_resp_free(&r);
    mf_licence_req(lic_buyer, mf_pending_id, "S", "standard", NULL, &r);
    kit_expect(&r, 404, "not_found", "an image not approved");
    th_resp_free(&r);
    mf_licence_req(lic_buyer, "i0000000000000000", "S", "standard", NULL, &r);
    kit_expect(&r, 404, "not_found", "no such image");
    th_resp_free(&r);
    kit_call("POST", "/api/v1/licences", lic_buyer, NULL,
             "{\"image_id\":\"x\",\"size\":\"S\"}", &r);
    kit_expect(&r, 400, "missing_idempotency_key", "licence without a key");
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 10);

    kit_fresh_key(key, "lic");
    mf_licence_req(lic_buyer, mf_image_id, "S", "standard", key, &r);
    kit_expect(&r, 201, NULL, "licence S");
    snprintf(lic_s, sizeof lic_s, "%s", kit_jstr(r.json, "id"));
    assert_string_equal(kit_jstr(r.json, "image_id"), mf_image_id);
    assert_string_equal(kit_jstr(r.json, "size"), "S");
    assert_string_equal(kit_jstr(r.json, "type"), "standard");
    assert_int_equal(kit_jint(r.json, "credits"), 1);
    assert_false(json_is_true(json_object_get(r.json, "already_held")));
    assert_non_null(strstr(kit_jstr(r.json, "download_url"), lic_s));
    assert_non_null(strstr(kit_jstr(r.json, "certificate_url"), lic_s));
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);

    /* The same request again: the same licence, nothing charged. */
    mf_licence_req(lic_buyer, mf_image_id, "S", "standard", key, &r);
    kit_expect(&r, 201, NULL, "licence replay");
    assert_string_equal(kit_jstr(r.json, "id"), lic_s);
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);
    mf_licence_req(lic_buyer, mf_image_id, "XL", "standard", key, &r);
    kit_expect(&r, 409, "idempotency_key_reused", "same key, other size");
    th_resp_free(&r);
    assert_int_equal(kit_credits(lic_buyer), 9);

    /* Licensing again is allowed, and said. */
    mf_licence_req(lic_buyer, mf_image_id, "S", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "second S licence");
    assert_true(json_is_true(json_object_get(r.json, "already_held")));
    snprintf(other, sizeof other, "%s", kit_jstr(r.json, "id"));
    assert_string_not_equal(other, lic_s);
    th_resp_free(&r);

    mf_licence_ok(lic_buyer, "XL", "standard", lic_xl);
    assert_int_equal(kit_credits(lic_buyer), 10 - 1 - 1 - 6);
    mf_licence_req(lic_buyer, mf_image_id, "M", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence M");
    th_resp_free(&r);
    mf_licence_req(lic_buyer, mf_image_id, "S", "extended", NULL, &r);
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

static void
check_file(const char *id, int edge, int ow, int oh, unsigned char sha[32])
{
    struct th_resp r;
    char disp[300];
    struct iu_jpeg jp;

    mf_download(lic_buyer, id, &r);
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
    mf_download(lic_buyer, id, &r);
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
    f = fopen(th_corpus(MF_GPS_IMAGE, path, sizeof path), "rb");
    assert_non_null(f);
    n = fread(orig, 1, 4 << 20, f);
    fclose(f);
    assert_int_equal(iu_jpeg_parse(orig, n, &jp), 0);
    assert_true(jp.has_gps);
    free(orig);
    kit_buy(lic_buyer, "10", NULL);
    mf_licence_req(lic_buyer, mf_gps_id, "M", "standard", NULL, &r);
    kit_expect(&r, 422, "size_not_offered", "M of a 1280 px image");
    th_resp_free(&r);
    mf_licence_req(lic_buyer, mf_gps_id, "S", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence S");
    snprintf(s_gps, sizeof s_gps, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    mf_licence_req(lic_buyer, mf_gps_id, "XL", "standard", NULL, &r);
    kit_expect(&r, 201, NULL, "licence XL");
    snprintf(xl_gps, sizeof xl_gps, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    check_file(s_gps, 1024, 1280, 960, sha);
    check_file(xl_gps, 1280, 1280, 960, sha);

    mf_download(NULL, lic_s, &r);
    kit_expect(&r, 401, "unauthenticated", "anonymous download");
    th_resp_free(&r);
    th_new_user(&mf_srv, "stranger", other);
    mf_download(other, lic_s, &r);
    kit_expect(&r, 404, "not_found", "someone else's licence");
    th_resp_free(&r);
    mf_download(mf_contrib_tok, lic_s, &r);
    kit_expect(&r, 404, "not_found", "the contributor is not the licensee");
    th_resp_free(&r);
    mf_download(lic_buyer, "l00000000000000000000000000000000", &r);
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
    mf_download(lic_buyer, lic_xl, &d);
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
                        mf_image_id);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_licence_rules),
        cmocka_unit_test(test_download),
        cmocka_unit_test(test_certificate),
    };

    return cmocka_run_group_tests(tests, mf_setup, mf_teardown);
}
