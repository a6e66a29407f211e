/* Stockroom — the money tests' fixture: a server with an admin, a
 * contributor and three of their photos (two approved, one pending), and
 * the licence helpers the money tests share. Its teardown checks the books
 * with `stockroom ledger verify`. */
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
#include "kit.h"
#include "moneyfix.h"
#include "util.h"

struct th_server mf_srv;
char mf_admin_tok[128];
char mf_contrib_tok[128];
char mf_image_id[64];
char mf_gps_id[64];
char mf_pending_id[64];

/* Ask for a licence; key NULL: a fresh one. The caller frees r. */
void
mf_licence_req(const char *token, const char *image, const char *size,
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
void
mf_licence_ok(const char *token, const char *size, const char *type,
              char id[64])
{
    struct th_resp r;

    mf_licence_req(token, mf_image_id, size, type, NULL, &r);
    kit_expect(&r, 201, NULL, "licence");
    if (id)
        snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

/* Download a licence as token; the caller frees r. */
void
mf_download(const char *token, const char *id, struct th_resp *r)
{
    char path[160];

    snprintf(path, sizeof path, "/api/v1/licences/%s/download", id);
    kit_call("GET", path, token, NULL, NULL, r);
}

/* ---- setup -------------------------------------------------------------- */

static int
upload(const char *rel, char id[64])
{
    char path[512];
    const char *fields[] = {"title", "By the water", "keywords",
                            "water, lake, evening", NULL};
    struct th_resp r;

    if (th_upload(&mf_srv, "/api/v1/images", mf_contrib_tok,
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

int
mf_setup(void **state)
{
    const char *const flags[] = {"--min-megapixels", "0.01", NULL};
    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    if (sodium_init() < 0 || th_start(&mf_srv, flags) < 0)
        return -1;
    kit_use(&mf_srv);
    kit_staff("admin", "admin", mf_admin_tok);
    kit_new_user("contributor", mf_contrib_tok);
    if (upload(MF_IMAGE, mf_image_id) < 0 ||
        upload(MF_GPS_IMAGE, mf_gps_id) < 0 ||
        upload(MF_PENDING_IMAGE, mf_pending_id) < 0)
        return -1;
    kit_approve(mf_contrib_tok, mf_admin_tok, mf_image_id);
    kit_approve(mf_contrib_tok, mf_admin_tok, mf_gps_id);
    return 0;
}

int
mf_teardown(void **state)
{
    int rc = th_stop(&mf_srv), v;

    (void)state;
    if (rc != 0)
        fprintf(stderr, "the server did not stop cleanly: %d\n", rc);
    v = tu_ledger_verify(mf_srv.dir);
    if (v != 0)
        fprintf(stderr, "stockroom ledger verify exited %d\n", v);
    th_cleanup(&mf_srv);
    curl_global_cleanup();
    return rc != 0 || v != 0 ? -1 : 0;
}
