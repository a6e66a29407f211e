/* Stockroom — the brief tests' fixture and helpers (brieffix.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "brieffix.h"
#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

struct th_server bf_srv;
char bf_admin[128];
struct bf_user bf_buyer, bf_c1, bf_c2;

static char upload_dir[256];
static char day_s[16];

void
bf_user_new(const char *prefix, struct bf_user *u)
{
    memset(u, 0, sizeof *u);
    kit_new_user(prefix, u->tok);
    kit_my_id(u->tok, u->id);
}

void
bf_upload(const struct bf_user *u, const char *tag, char id[64])
{
    const char *fields[] = {"title", "Grace at the desk", "keywords",
                            "portrait, desk, office, woman, history", NULL};
    char path[512];
    struct th_resp r;

    iu_unique_corpus(upload_dir, BF_IMAGE, tag, path, sizeof path);
    if (th_upload(&bf_srv, "/api/v1/images", u->tok, path, "photo.jpg", fields,
                  &r) < 0)
        fail_msg("upload %s: no answer", tag);
    kit_expect(&r, 202, NULL, "upload");
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

static void
contributor(const char *prefix, struct bf_user *u)
{
    char tag[64];

    bf_user_new(prefix, u);
    for (int i = 0; i < BF_PHOTOS; i++) {
        snprintf(tag, sizeof tag, "%s-%d", prefix, i);
        bf_upload(u, tag, u->photo[i]);
    }
    for (int i = 0; i < BF_PHOTOS; i++)
        kit_approve(u->tok, bf_admin, u->photo[i]);
}

int
bf_restart(void)
{
    const char *const flags[] = {"--min-megapixels", "0.01",
                                 "--brief-day-seconds", day_s, NULL};

    return th_start(&bf_srv, flags);
}

int
bf_start(const char *day)
{
    snprintf(day_s, sizeof day_s, "%s", day);
    curl_global_init(CURL_GLOBAL_ALL);
    if (tu_tmpdir(upload_dir, sizeof upload_dir) < 0 || bf_restart() < 0)
        return -1;
    kit_use(&bf_srv);
    kit_staff("admin", "admin", bf_admin);
    bf_user_new("buyer", &bf_buyer);
    kit_buy(bf_buyer.tok, "100", NULL);
    kit_buy(bf_buyer.tok, "100", NULL);
    kit_buy(bf_buyer.tok, "100", NULL);
    contributor("cone", &bf_c1);
    contributor("ctwo", &bf_c2);
    return 0;
}

int
bf_stop(void)
{
    int rc = th_stop(&bf_srv), v;

    if (rc != 0)
        fprintf(stderr, "the server did not stop cleanly: %d\n", rc);
    v = tu_ledger_verify(bf_srv.dir);
    if (v != 0)
        fprintf(stderr, "stockroom ledger verify exited %d\n", v);
    th_cleanup(&bf_srv);
    tu_rmtree(upload_dir);
    curl_global_cleanup();
    return rc != 0 || v != 0 ? -1 : 0;
}

const char *
bf_deadline(int64_t secs, char buf[32])
{
    time_t t = time(NULL) + (time_t)secs;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void
bf_post(const struct bf_user *u, int64_t bounty, int winners, int64_t secs,
        char id[64])
{
    char body[512], dl[32], key[64];
    struct th_resp r;

    kit_fresh_key(key, "brief");
    snprintf(body, sizeof body,
             "{\"title\":\"Woman at a desk, 1950s\",\"description\":\"Black "
             "and white, office.\",\"keywords\":[\"office\",\"portrait\"],"
             "\"deadline\":\"%s\",\"bounty_credits\":%lld,\"winners\":%d,"
             "\"licence_type\":\"standard\"}",
             bf_deadline(secs, dl), (long long)bounty, winners);
    kit_call("POST", "/api/v1/briefs", u->tok, key, body, &r);
    kit_expect(&r, 201, NULL, "post a brief");
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

void
bf_submit(const struct bf_user *u, const char *brief, const char *image,
          long status, const char *code, char sid[64])
{
    char path[128], body[128];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions", brief);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\"}", image);
    kit_call("POST", path, u->tok, NULL, body, &r);
    kit_expect(&r, status, code, "submit");
    if (sid && status == 201)
        snprintf(sid, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

json_t *
bf_brief(const char *token, const char *brief)
{
    char path[128];

    snprintf(path, sizeof path, "/api/v1/briefs/%s", brief);
    return kit_want("GET", path, token, NULL, 200, NULL);
}

int64_t
bf_credits(const struct bf_user *u)
{
    return (int64_t)kit_credits(u->tok);
}
