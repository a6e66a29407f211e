/* Stockroom — briefs over HTTP: posting with the bounty in escrow, finding,
 * editing and cancelling, private submissions and their limit, the
 * shortlist and comments, awards to 1-5 winners with odd bounties (exact
 * shares, licences, royalties), closing without award, and every route's
 * refusals by role. Brief days are an hour long here: no deadline passes. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "brieffix.h"
#include "harness.h"
#include "kit.h"
#include "util.h"

#define HOURS(n) ((int64_t)(n)*3600)

static int
setup(void **state)
{
    (void)state;
    return bf_start("3600");
}

static int
teardown(void **state)
{
    (void)state;
    return bf_stop();
}

static void
expect(const char *method, const char *path, const struct bf_user *u,
       const char *body, long status, const char *code)
{
    kit_check(method, path, u ? u->tok : NULL, body, status, code, path);
}

static void
post_body(const struct bf_user *u, const char *key, const char *body,
          long status, const char *code)
{
    struct th_resp r;

    kit_call("POST", "/api/v1/briefs", u->tok, key, body, &r);
    kit_expect(&r, status, code, body);
    th_resp_free(&r);
}

/* A brief body with the given bounty, winners and deadline. */
static const char *
body_of(int64_t bounty, int winners, int64_t secs, const char *type, char *buf,
        size_t len)
{
    char dl[32];

    snprintf(buf, len,
             "{\"title\":\"Lighthouse at dawn\",\"keywords\":\"lighthouse, "
             "Dawn, sea\",\"deadline\":\"%s\",\"bounty_credits\":%lld,"
             "\"winners\":%d,\"licence_type\":\"%s\"}",
             bf_deadline(secs, dl), (long long)bounty, winners, type);
    return buf;
}

static void
test_post_escrow_and_refusals(void **state)
{
    char body[512], key[64], path[128], id[64];
    int64_t before = bf_credits(&bf_buyer);
    struct bf_user poor;
    struct th_resp r, again;
    json_t *b;

    (void)state;
    kit_fresh_key(key, "post");
    body_of(23, 2, HOURS(48), "extended", body, sizeof body);
    kit_call("POST", "/api/v1/briefs", bf_buyer.tok, key, body, &r);
    kit_expect(&r, 201, NULL, "post");
    assert_int_equal(kit_jint(r.json, "bounty_credits"), 23);
    assert_int_equal(kit_jint(r.json, "escrow_credits"), 23);
    assert_int_equal(kit_jint(r.json, "royalty_rate_bp"), 6000);
    assert_string_equal(kit_jstr(r.json, "status"), "open");
    assert_null(json_object_get(r.json, "buyer_id"));
    assert_int_equal(bf_credits(&bf_buyer), before - 23);
    /* The same key and body: the same brief, nothing moved again. */
    kit_call("POST", "/api/v1/briefs", bf_buyer.tok, key, body, &again);
    kit_expect(&again, 201, NULL, "post again");
    assert_string_equal(kit_jstr(again.json, "id"), kit_jstr(r.json, "id"));
    assert_int_equal(bf_credits(&bf_buyer), before - 23);
    snprintf(id, sizeof id, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&again);
    th_resp_free(&r);
    /* The same key with another body. */
    post_body(&bf_buyer, key,
              body_of(24, 2, HOURS(48), "standard", body, sizeof body), 409,
              "idempotency_key_reused");
    post_body(&bf_buyer, NULL, body, 400, "missing_idempotency_key");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              body_of(19, 1, HOURS(48), "standard", body, sizeof body), 422,
              "bounty_too_small");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              body_of(20, 6, HOURS(48), "standard", body, sizeof body), 422,
              "invalid_field");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              body_of(20, 1, 1800, "standard", body, sizeof body), 422,
              "invalid_deadline");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              body_of(20, 1, HOURS(61 * 24), "standard", body, sizeof body),
              422, "invalid_deadline");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              body_of(20, 1, HOURS(48), "editorial", body, sizeof body), 422,
              "invalid_field");
    kit_fresh_key(key, "p");
    post_body(&bf_buyer, key,
              "{\"title\":\"x y z\",\"keywords\":\"a\",\"deadline\":\"soon\","
              "\"bounty_credits\":20,\"winners\":1,\"licence_type\":"
              "\"standard\"}",
              422, "invalid_field");
    bf_user_new("poor", &poor);
    kit_fresh_key(key, "p");
    post_body(&poor, key,
              body_of(20, 1, HOURS(48), "standard", body, sizeof body), 402,
              "insufficient_credits");
    expect("POST", "/api/v1/briefs", NULL, body, 401, "unauthenticated");
    /* Anyone sees it; only the buyer sees the escrow. */
    b = bf_brief(NULL, id);
    assert_null(json_object_get(b, "escrow_credits"));
    assert_false(json_is_true(json_object_get(b, "mine")));
    json_decref(b);
    snprintf(path, sizeof path, "/api/v1/briefs/%s", id);
    expect("DELETE", path, &bf_c1, NULL, 404, "not_found");
    expect("DELETE", path, &bf_buyer, NULL, 200, NULL);
    assert_int_equal(bf_credits(&bf_buyer), before);
    expect("DELETE", path, &bf_buyer, NULL, 409, "brief_not_open");
    expect("GET", "/api/v1/briefs/bnosuch", NULL, NULL, 404, "not_found");
}

/* Escrowed credits count as spent: the pack they came from cannot be
 * refunded while the brief holds them, and can once they are back. */
static void
test_escrow_blocks_pack_refund(void **state)
{
    struct bf_user u;
    char pid[64], id[64], path[160];

    (void)state;
    bf_user_new("refunder", &u);
    kit_buy(u.tok, "30", pid);
    bf_post(&u, 25, 1, HOURS(40), id);
    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", pid);
    expect("POST", path, &u, NULL, 409, "not_refundable");
    snprintf(path, sizeof path, "/api/v1/briefs/%s", id);
    expect("DELETE", path, &u, NULL, 200, NULL);
    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", pid);
    expect("POST", path, &u, NULL, 200, NULL);
    assert_int_equal(bf_credits(&u), 0);
}

static void
test_find(void **state)
{
    char a[64], b[64], c[64];
    json_t *l, *items;
    int seen = 0;

    (void)state;
    bf_post(&bf_buyer, 21, 1, HOURS(30), a);
    bf_post(&bf_buyer, 27, 1, HOURS(20), b);
    l = kit_want("GET", "/api/v1/briefs?sort=bounty&keyword=office", NULL, NULL,
                 200, NULL);
    items = json_object_get(l, "items");
    assert_true(json_array_size(items) >= 2);
    assert_int_equal(kit_jint(json_array_get(items, 0), "bounty_credits"), 27);
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);

        assert_null(json_object_get(it, "buyer_id"));
        assert_non_null(json_object_get(it, "buyer_record"));
        seen += !strcmp(kit_jstr(it, "id"), a) + !strcmp(kit_jstr(it, "id"), b);
    }
    assert_int_equal(seen, 2);
    json_decref(l);
    l = kit_want("GET", "/api/v1/briefs?sort=deadline&q=1950S", NULL, NULL, 200,
                 NULL);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(l, "items"), 0), "id"), b);
    json_decref(l);
    l = kit_want("GET", "/api/v1/briefs?q=nowhere-to-be-found", NULL, NULL, 200,
                 NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 0);
    json_decref(l);
    expect("GET", "/api/v1/briefs?sort=cheapest", NULL, NULL, 422,
           "invalid_request");
    expect("GET", "/api/v1/briefs?limit=0", NULL, NULL, 422,
           "invalid_parameter");
    expect("GET", "/api/v1/briefs?cursor=garbage", NULL, NULL, 422,
           "invalid_cursor");
    /* Edit before the first submission, not after. */
    {
        char path[128];

        snprintf(path, sizeof path, "/api/v1/briefs/%s", a);
        expect("PATCH", path, &bf_buyer, "{\"title\":\"A typist, 1950s\"}", 200,
               NULL);
        expect("PATCH", path, &bf_c1, "{\"title\":\"Mine now\"}", 404,
               "not_found");
        bf_submit(&bf_c1, a, bf_c1.photo[0], 201, NULL, NULL);
        expect("PATCH", path, &bf_buyer, "{\"title\":\"Too late\"}", 409,
               "has_submissions");
        expect("DELETE", path, &bf_buyer, NULL, 409, "has_submissions");
    }
    bf_post(&bf_buyer, 20, 1, HOURS(30), c);
}

static void
test_submissions_private(void **state)
{
    char id[64], path[160], s1[64];
    struct bf_user other;
    json_t *l;

    (void)state;
    bf_post(&bf_buyer, 20, 2, HOURS(40), id);
    bf_submit(&bf_buyer, id, bf_c1.photo[0], 422, "own_brief", NULL);
    bf_submit(&bf_c2, id, bf_c1.photo[0], 422, "not_your_image", NULL);
    bf_submit(&bf_c1, id, bf_c1.photo[0], 201, NULL, s1);
    bf_submit(&bf_c1, id, bf_c1.photo[0], 409, "already_submitted", NULL);
    bf_submit(&bf_c1, "bnosuch", bf_c1.photo[1], 404, "not_found", NULL);
    bf_submit(&bf_c2, id, bf_c2.photo[0], 201, NULL, NULL);
    bf_submit(&bf_c2, id, bf_c2.photo[1], 201, NULL, NULL);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions", id);
    l = kit_want("GET", path, bf_buyer.tok, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 3);
    json_decref(l);
    l = kit_want("GET", path, bf_c1.tok, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(l, "items"), 0), "id"), s1);
    json_decref(l);
    l = kit_want("GET", path, bf_c2.tok, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 2);
    json_decref(l);
    bf_user_new("nosy", &other);
    l = kit_want("GET", path, other.tok, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 0);
    json_decref(l);
    expect("GET", path, NULL, NULL, 401, "unauthenticated");
    l = bf_brief(NULL, id);
    assert_int_equal(kit_jint(l, "submission_count"), 3);
    json_decref(l);
}

static void
test_submission_limit(void **state)
{
    struct bf_user c;
    char id[64], img[64], tag[32];

    (void)state;
    bf_user_new("prolific", &c);
    bf_post(&bf_buyer, 20, 1, HOURS(40), id);
    /* Photos waiting for review count toward the limit as well. */
    for (int i = 0; i <= 10; i++) {
        snprintf(tag, sizeof tag, "lim-%d", i);
        bf_upload(&c, tag, img);
        if (i < 10)
            bf_submit(&c, id, img, 201, NULL, NULL);
        else
            bf_submit(&c, id, img, 422, "submission_limit", NULL);
    }
}

static void
test_shortlist_and_comments(void **state)
{
    char id[64], s1[64], s2[64], path[200];
    json_t *l, *c;

    (void)state;
    bf_post(&bf_buyer, 20, 1, HOURS(40), id);
    bf_submit(&bf_c1, id, bf_c1.photo[1], 201, NULL, s1);
    bf_submit(&bf_c2, id, bf_c2.photo[2], 201, NULL, s2);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions/%s/shortlist",
             id, s1);
    expect("PUT", path, &bf_buyer, NULL, 204, NULL);
    expect("PUT", path, &bf_c1, NULL, 404, "not_found");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions/%s/comments", id,
             s1);
    expect("POST", path, &bf_buyer, "{\"text\":\"Closer, and more light.\"}",
           201, NULL);
    expect("POST", path, &bf_c2, "{\"text\":\"Mine is better\"}", 404,
           "not_found");
    expect("POST", path, &bf_buyer, "{\"text\":\"\"}", 422, "invalid_field");
    snprintf(path, sizeof path,
             "/api/v1/briefs/%s/submissions/snosuch/comments", id);
    expect("POST", path, &bf_buyer, "{\"text\":\"Hello\"}", 404, "not_found");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions", id);
    l = kit_want("GET", path, bf_c1.tok, NULL, 200, NULL);
    c = json_object_get(json_array_get(json_object_get(l, "items"), 0),
                        "comments");
    assert_int_equal(json_array_size(c), 1);
    assert_string_equal(kit_jstr(json_array_get(c, 0), "text"),
                        "Closer, and more light.");
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(l, "items"), 0), "shortlisted")));
    json_decref(l);
    l = kit_want("GET", path, bf_c2.tok, NULL, 200, NULL);
    c = json_object_get(json_array_get(json_object_get(l, "items"), 0),
                        "comments");
    assert_int_equal(json_array_size(c), 0);
    json_decref(l);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions/%s/shortlist",
             id, s1);
    expect("DELETE", path, &bf_buyer, NULL, 204, NULL);
}

/* Award bounty among n of the contributors' photos and check every share,
 * licence, royalty and the buyer's wallet to the credit. */
static void
award_n(int64_t bounty, int n)
{
    const char *imgs[6] = {bf_c1.photo[0], bf_c2.photo[0], bf_c1.photo[1],
                           bf_c2.photo[1], bf_c1.photo[2], bf_c2.photo[2]};
    char id[64], sid[6][64], body[512], path[128];
    int64_t before, total = 0;
    json_t *res, *awards, *b;

    kit_buy(bf_buyer.tok, "100", NULL);
    bf_post(&bf_buyer, bounty, n, HOURS(40), id);
    before = bf_credits(&bf_buyer);
    for (int i = 0; i < n + 1 && i < 6; i++)
        bf_submit(i % 2 ? &bf_c2 : &bf_c1, id, imgs[i], 201, NULL, sid[i]);
    snprintf(body, sizeof body, "{\"submission_ids\":[");
    for (int i = 0; i < n; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s\"%s\"",
                 i ? "," : "", sid[i]);
    strcat(body, "]}");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", id);
    res = kit_want("POST", path, bf_buyer.tok, body, 201, NULL);
    assert_string_equal(kit_jstr(res, "status"), "awarded");
    assert_int_equal(kit_jint(res, "escrow_credits"), 0);
    awards = json_object_get(res, "awards");
    assert_int_equal(json_array_size(awards), n);
    for (int i = 0; i < n; i++) {
        json_t *a = json_object_get(json_array_get(awards, i), "award");
        int64_t got = kit_jint(a, "credits");
        const char *first = kit_jstr(json_array_get(awards, i), "id");

        /* The remainder credit goes to the first pick. */
        if (strcmp(first, sid[0]) == 0)
            assert_int_equal(got, bounty / n + bounty % n);
        else
            assert_int_equal(got, bounty / n);
        total += got;
    }
    assert_int_equal(total, bounty);
    /* Escrowed credits were spent: the wallet did not move at award. */
    assert_int_equal(bf_credits(&bf_buyer), before);
    b = bf_brief(NULL, id);
    assert_int_equal(
        kit_jint(json_object_get(b, "buyer_record"), "awarded") >= 1, 1);
    json_decref(b);
    /* Too many picks, once awarded: refused. */
    expect("POST", path, &bf_buyer, "{\"submission_ids\":[\"snosuch\"]}", 409,
           "already_awarded");
    json_decref(res);
}

static void
test_award_one_to_five(void **state)
{
    (void)state;
    award_n(20, 1);
    award_n(23, 2);
    award_n(31, 3);
    award_n(43, 4);
    award_n(57, 5);
}

static void
test_award_licences_and_earnings(void **state)
{
    char id[64], sid[64], path[160], body[256];
    json_t *res, *lic, *earn, *wins, *sale = NULL;
    struct th_resp r;
    const char *lid;

    (void)state;
    bf_post(&bf_buyer, 20, 2, HOURS(40), id);
    bf_submit(&bf_c2, id, bf_c2.photo[2], 201, NULL, sid);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", id);
    expect("POST", path, &bf_c2, "{\"submission_ids\":[\"x\"]}", 404,
           "not_found");
    expect("POST", path, &bf_buyer, "{\"submission_ids\":[]}", 422,
           "invalid_field");
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\",\"%s\"]}", sid,
             sid);
    expect("POST", path, &bf_buyer, body, 422, "invalid_submission");
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\"]}", sid);
    res = kit_want("POST", path, bf_buyer.tok, body, 201, NULL);
    /* Again with the same picks: the same award, nothing paid twice. */
    json_decref(kit_want("POST", path, bf_buyer.tok, body, 200, NULL));
    lid = kit_jstr(
        json_object_get(json_array_get(json_object_get(res, "awards"), 0),
                        "award"),
        "licence_id");
    lic = kit_want("GET", "/api/v1/me/licences", bf_buyer.tok, NULL, 200, NULL);
    for (size_t i = 0; i < json_array_size(json_object_get(lic, "items"));
         i++) {
        json_t *it = json_array_get(json_object_get(lic, "items"), i);

        if (!strcmp(kit_jstr(it, "id"), lid)) {
            assert_string_equal(kit_jstr(it, "size"), "XL");
            assert_string_equal(kit_jstr(it, "type"), "standard");
            assert_int_equal(kit_jint(it, "credits"), 20);
        }
    }
    json_decref(lic);
    snprintf(path, sizeof path, "/api/v1/licences/%s/download", lid);
    kit_call("GET", path, bf_buyer.tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "download the winning photo");
    assert_true(r.len > 1000);
    th_resp_free(&r);
    kit_check("GET", path, bf_c2.tok, NULL, 404, "not_found", "not theirs");
    earn = kit_want("GET", "/api/v1/me/earnings", bf_c2.tok, NULL, 200, NULL);
    for (size_t i = 0; i < json_array_size(json_object_get(earn, "sales"));
         i++) {
        json_t *it = json_array_get(json_object_get(earn, "sales"), i);

        /* Sales lines name no licence (buyers stay private): the award is
         * the one sale at the brief's rate. */
        if (kit_jint(it, "royalty_rate_bp") == 6000)
            sale = it;
    }
    assert_non_null(sale);
    assert_int_equal(kit_jint(sale, "royalty_rate_bp"), 6000);
    assert_int_equal(kit_jint(sale, "share_cents"),
                     kit_jint(sale, "cash_cents") * 6000 / 10000);
    json_decref(earn);
    wins = kit_want("GET", "/api/v1/me/brief-wins", bf_c2.tok, NULL, 200, NULL);
    assert_true(json_array_size(json_object_get(wins, "items")) >= 1);
    assert_true(kit_jint(wins, "total_royalty_cents") > 0);
    json_decref(wins);
    json_decref(res);
}

static void
test_close_without_award(void **state)
{
    char id[64], empty[64], path[160];
    int64_t before;
    json_t *b;

    (void)state;
    bf_post(&bf_buyer, 22, 1, HOURS(40), id);
    bf_post(&bf_buyer, 20, 1, HOURS(40), empty);
    before = bf_credits(&bf_buyer);
    bf_submit(&bf_c1, id, bf_c1.photo[2], 201, NULL, NULL);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/close", empty);
    expect("POST", path, &bf_buyer, "{\"reason\":\"Found one elsewhere\"}", 409,
           "no_submissions");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/close", id);
    expect("POST", path, &bf_buyer, "{}", 422, "missing_field");
    expect("POST", path, &bf_c1, "{\"reason\":\"Nope\"}", 404, "not_found");
    expect("POST", path, &bf_buyer, "{\"reason\":\"The client cancelled\"}",
           200, NULL);
    assert_int_equal(bf_credits(&bf_buyer), before + 22);
    b = bf_brief(NULL, id);
    assert_string_equal(kit_jstr(b, "status"), "closed");
    assert_true(kit_jint(json_object_get(b, "buyer_record"),
                         "closed_without_award") >= 1);
    json_decref(b);
    expect("POST", path, &bf_buyer, "{\"reason\":\"Again\"}", 409,
           "brief_not_open");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", id);
    expect("POST", path, &bf_buyer, "{\"submission_ids\":[\"x\"]}", 409,
           "brief_not_open");
}

static void
test_dropped_photo_cannot_win(void **state)
{
    char id[64], sid[64], img[64], path[160], body[128], sql[256], db[400];
    char err[256];
    json_t *l;

    (void)state;
    bf_upload(&bf_c1, "dropped", img);
    kit_approve(bf_c1.tok, bf_admin, img);
    bf_post(&bf_buyer, 20, 1, HOURS(40), id);
    bf_submit(&bf_c1, id, img, 201, NULL, sid);
    bf_submit(&bf_c2, id, bf_c2.photo[0], 201, NULL, NULL);
    /* Withdrawal and take-down come with issue 16: until then the photo
     * leaves sale the only way the schema allows. */
    snprintf(db, sizeof db, "%s/stockroom.db", bf_srv.dir);
    snprintf(sql, sizeof sql,
             "UPDATE images SET status = 'rejected' WHERE id = '%s'", img);
    assert_int_equal(tu_sql_exec(db, sql, err, sizeof err), 0);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions", id);
    l = kit_want("GET", path, bf_buyer.tok, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
    json_decref(l);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", id);
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\"]}", sid);
    expect("POST", path, &bf_buyer, body, 422, "invalid_submission");
    l = bf_brief(bf_buyer.tok, id);
    assert_int_equal(kit_jint(l, "escrow_credits"), 20);
    json_decref(l);
}

/* Racing awards of one brief: one pays, the rest are replays. */
struct racer {
    const char *path, *body;
    long status;
};

static void *
race(void *arg)
{
    struct racer *x = arg;
    struct th_resp r;

    x->status = kit_try("POST", x->path, bf_buyer.tok, NULL, x->body, &r);
    th_resp_free(&r);
    return NULL;
}

static void
test_award_concurrent(void **state)
{
    enum { N = 8 };
    char id[64], s1[64], s2[64], path[160], body[200];
    struct racer x[N];
    pthread_t t[N];
    int created = 0, replayed = 0;
    int64_t before;
    json_t *b;

    (void)state;
    bf_post(&bf_buyer, 25, 2, HOURS(40), id);
    bf_submit(&bf_c1, id, bf_c1.photo[0], 201, NULL, s1);
    bf_submit(&bf_c2, id, bf_c2.photo[0], 201, NULL, s2);
    before = bf_credits(&bf_buyer);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", id);
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\",\"%s\"]}", s2, s1);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){path, body, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race, &x[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        created += x[i].status == 201;
        replayed += x[i].status == 200;
    }
    assert_int_equal(created, 1);
    assert_int_equal(replayed, N - 1);
    assert_int_equal(bf_credits(&bf_buyer), before);
    b = bf_brief(bf_buyer.tok, id);
    assert_int_equal(kit_jint(b, "escrow_credits"), 0);
    json_decref(b);
    assert_int_equal(tu_ledger_verify(bf_srv.dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_escrow_and_refusals),
        cmocka_unit_test(test_escrow_blocks_pack_refund),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_submissions_private),
        cmocka_unit_test(test_submission_limit),
        cmocka_unit_test(test_shortlist_and_comments),
        cmocka_unit_test(test_award_one_to_five),
        cmocka_unit_test(test_award_licences_and_earnings),
        cmocka_unit_test(test_close_without_award),
        cmocka_unit_test(test_dropped_photo_cannot_win),
        cmocka_unit_test(test_award_concurrent),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
