/* Stockroom — every default DESIGN.md names, pinned against a server
 * started without flags: credit packs, licence prices, royalty tiers and
 * their thresholds, the payout minimum, and the upload limits. A one-line
 * change of a default in server/config.c must fail a test here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define IMAGE "real/01-mate-Elephants_5640x3172.jpg" /* every size */

static struct th_server srv;
static char admin[128], contrib[128], buyer[128];
static char image_id[64];
static json_int_t buyer_credits;

static int
setup(void **state)
{
    char path[512];
    struct th_resp r;

    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    if (th_start(&srv, NULL) < 0)
        return -1;
    kit_use(&srv);
    kit_staff("admin", "admin", admin);
    kit_new_user("contributor", contrib);
    kit_new_user("buyer", buyer);
    if (iu_upload(&srv, contrib, th_corpus(IMAGE, path, sizeof path),
                  "Elephants", 0, &r) < 0)
        return -1;
    kit_expect(&r, 202, NULL, "upload");
    snprintf(image_id, sizeof image_id, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    kit_approve(contrib, admin, image_id);
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    return rc;
}

/* ---- packs and prices ------------------------------------------------- */

static void
test_packs(void **state)
{
    static const struct {
        const char *id;
        json_int_t credits, cents;
    } want[] = {{"10", 10, 1500}, {"30", 30, 3900}, {"100", 100, 11000}};
    json_t *j = kit_want("GET", "/api/v1/credits/packs", NULL, NULL, 200, NULL);
    json_t *items = json_object_get(j, "items");

    (void)state;
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(items, i);

        assert_string_equal(kit_jstr(p, "id"), want[i].id);
        assert_int_equal(kit_jint(p, "credits"), want[i].credits);
        assert_int_equal(kit_jint(p, "price_cents"), want[i].cents);
    }
    json_decref(j);
    for (size_t i = 0; i < 3; i++) {
        json_int_t before = kit_credits(buyer);

        kit_buy(buyer, want[i].id, NULL);
        assert_int_equal(kit_credits(buyer) - before, want[i].credits);
    }
}

/* Sell one licence to the buyer; its credits. Buys a 100 pack when the
 * buyer runs short. */
static json_int_t
sell(const char *size, const char *type)
{
    struct th_resp r;
    json_int_t c;

    if (buyer_credits < 36) {
        kit_buy(buyer, "100", NULL);
        buyer_credits = kit_credits(buyer);
    }
    kit_licence(buyer, image_id, size, type, &r);
    kit_expect(&r, 201, NULL, "licence");
    c = kit_jint(r.json, "credits");
    buyer_credits -= c;
    th_resp_free(&r);
    return c;
}

static const struct {
    const char *size;
    json_int_t credits, edge;
} sizes[] = {{"S", 1, 1024}, {"M", 2, 2048}, {"L", 4, 4096}, {"XL", 6, 5640}};

/* S 1, M 2, L 4, XL 6 credits; extended adds 30. */
static void
test_licence_prices(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        json_int_t before;

        if (kit_credits(buyer) < 2 * 36)
            kit_buy(buyer, "100", NULL);
        before = buyer_credits = kit_credits(buyer);

        assert_int_equal(sell(sizes[i].size, "standard"), sizes[i].credits);
        assert_int_equal(sell(sizes[i].size, "extended"),
                         sizes[i].credits + 30);
        assert_int_equal(before - kit_credits(buyer),
                         2 * sizes[i].credits + 30);
    }
}

/* The sizes on offer: 1024, 2048, 4096 pixels on the long edge and the
 * original, at the prices above. */
static void
test_sizes(void **state)
{
    char path[128];
    json_t *j, *list, *s;
    size_t i;

    (void)state;
    snprintf(path, sizeof path, "/api/v1/images/%s", image_id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    list = json_object_get(j, "sizes");
    assert_int_equal(json_array_size(list), 4);
    json_array_foreach(list, i, s)
    {
        json_int_t w = kit_jint(s, "width"), h = kit_jint(s, "height");

        assert_string_equal(kit_jstr(s, "name"), sizes[i].size);
        assert_int_equal(w > h ? w : h, sizes[i].edge);
        assert_int_equal(kit_jint(s, "credits"), sizes[i].credits);
        assert_int_equal(kit_jint(s, "extended_credits"),
                         sizes[i].credits + 30);
    }
    json_decref(j);
}

/* The public thumbnail is 240 pixels on the long edge, the preview 800. */
static void
test_rendition_edges(void **state)
{
    static const struct {
        const char *name;
        int edge;
    } want[] = {{"thumbnail.jpg", 240}, {"preview.jpg", 800}};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char path[128];
        struct th_resp r;
        struct iu_jpeg jp;

        snprintf(path, sizeof path, "/images/%s/%s", image_id, want[i].name);
        kit_call("GET", path, NULL, NULL, NULL, &r);
        kit_expect(&r, 200, NULL, path);
        assert_int_equal(iu_jpeg_parse(r.body, r.len, &jp), 0);
        assert_int_equal(jp.width > jp.height ? jp.width : jp.height,
                         want[i].edge);
        th_resp_free(&r);
    }
}

/* ---- royalty tiers ---------------------------------------------------- */

static json_t *
earnings(void)
{
    return kit_want("GET", "/api/v1/me/earnings", contrib, NULL, 200, NULL);
}

static json_int_t
sold(void)
{
    json_t *e = earnings();
    json_int_t n = kit_jint(e, "licences_sold");

    json_decref(e);
    return n;
}

/* Sell S standard licences until the contributor has sold n in all. */
static void
sell_until(json_int_t n)
{
    for (json_int_t k = sold(); k < n; k++)
        sell("S", "standard");
    assert_int_equal(sold(), n);
}

/* The earnings say rate, and the next tier is next_rate after to_go more
 * licences (next_rate 0: there is none). */
static void
assert_tier(int rate, int next_rate, json_int_t to_go)
{
    json_t *e = earnings(), *next;

    assert_int_equal(kit_jint(e, "royalty_rate_bp"), rate);
    next = json_object_get(e, "next_tier");
    if (!next_rate) {
        assert_true(json_is_null(next));
    } else {
        assert_int_equal(kit_jint(next, "royalty_rate_bp"), next_rate);
        assert_int_equal(kit_jint(next, "licences_to_go"), to_go);
    }
    json_decref(e);
}

/* The rate of the newest sale in the earnings. */
static json_int_t
last_sale_rate(void)
{
    json_t *e = earnings();
    json_t *s = json_array_get(json_object_get(e, "sales"), 0);
    json_int_t bp = kit_jint(s, "royalty_rate_bp");

    json_decref(e);
    return bp;
}

/* 25% below 100 lifetime licences, 30% from 100, 35% from 1,000, 40% from
 * 10,000 (pinned by what the earnings announce at 1,000). */
static void
test_royalty_tiers(void **state)
{
    json_int_t n = sold();

    (void)state;
    assert_true(n < 99);
    assert_tier(2500, 3000, 100 - n);
    sell_until(99);
    assert_tier(2500, 3000, 1);
    assert_int_equal(last_sale_rate(), 2500);
    sell_until(100);
    assert_tier(3000, 3500, 900);
    sell_until(101);
    assert_int_equal(last_sale_rate(), 3000);
    sell_until(999);
    assert_tier(3000, 3500, 1);
    sell_until(1000);
    assert_tier(3500, 4000, 9000);
    sell_until(1001);
    assert_int_equal(last_sale_rate(), 3500);
}

/* ---- payouts ---------------------------------------------------------- */

static void
test_payout_minimum(void **state)
{
    json_t *e = earnings();
    struct th_resp r;

    (void)state;
    assert_int_equal(kit_jint(e, "payout_minimum_cents"), 2500);
    assert_true(kit_jint(e, "balance_cents") >= 2500);
    json_decref(e);
    kit_call("POST", "/api/v1/payouts", contrib, NULL,
             "{\"amount_cents\":2499}", &r);
    kit_expect(&r, 422, "below_minimum", "a payout of 2499 cents");
    th_resp_free(&r);
    kit_call("POST", "/api/v1/payouts", contrib, NULL,
             "{\"amount_cents\":2500}", &r);
    kit_expect(&r, 201, NULL, "a payout of 2500 cents");
    th_resp_free(&r);
}

/* ---- upload limits ---------------------------------------------------- */

/* Upload a PNG whose header says w x h, with a scan that ends at once;
 * the answer into r. */
static void
upload_png_header(uint32_t w, uint32_t h, struct th_resp *r)
{
    /* An empty zlib stream: a stored final block of no bytes. */
    static const unsigned char zlib[] = {0x78, 0x01, 0x01, 0x00, 0x00, 0xff,
                                         0xff, 0x00, 0x00, 0x00, 0x01};
    unsigned char png[8 + 25 + 12 + sizeof zlib + 12] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char *c = png + 8;
    struct iu_part part = {"file", "header.png", 0, png, sizeof png};

    iu_put32(c, 13);
    memcpy(c + 4, "IHDR", 4);
    iu_put32(c + 8, w);
    iu_put32(c + 12, h);
    c[16] = 8; /* bit depth */
    c[17] = 2; /* RGB */
    iu_put32(c + 21, iu_crc32(c + 4, 17));
    c += 25;
    iu_put32(c, sizeof zlib);
    memcpy(c + 4, "IDAT", 4);
    memcpy(c + 8, zlib, sizeof zlib);
    iu_put32(c + 8 + sizeof zlib, iu_crc32(c + 4, 4 + sizeof zlib));
    c += 12 + sizeof zlib;
    iu_put32(c, 0);
    memcpy(c + 4, "IEND", 4);
    iu_put32(c + 8, iu_crc32(c + 4, 4));
    if (iu_multipart(&srv, "/api/v1/images", contrib, &part, 1, 0, r) < 0)
        fail_msg("upload %ux%u: no answer", w, h);
}

/* At least 4 MP and at most 100 MP, judged by the header before the
 * pixels: a header inside the limits gets as far as decoding the scan,
 * which is cut short, so its answer is 422 corrupt. */
static void
test_pixel_limits(void **state)
{
    static const struct {
        uint32_t w, h;
        long status;
        const char *code;
    } cases[] = {
        {2000, 1999, 422, "too_small"},
        {2000, 2000, 422, "corrupt"},
        {10000, 10000, 422, "corrupt"},
        {10000, 10001, 422, "too_many_pixels"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        struct th_resp r;

        snprintf(what, sizeof what, "a %ux%u PNG", cases[i].w, cases[i].h);
        upload_png_header(cases[i].w, cases[i].h, &r);
        kit_expect(&r, cases[i].status, cases[i].code, what);
        th_resp_free(&r);
    }
}

/* 50 MiB at most: one byte over is 413 too_large before anything else is
 * looked at; a little under is read and judged by its content. */
static void
test_upload_size(void **state)
{
    size_t max = 50u * 1024 * 1024;
    unsigned char *data = calloc(1, max + 1);
    struct iu_part part = {"file", "zeros.bin", 0, data, max + 1};
    struct th_resp r;

    (void)state;
    assert_non_null(data);
    assert_int_equal(
        iu_multipart(&srv, "/api/v1/images", contrib, &part, 1, 0, &r), 0);
    kit_expect(&r, 413, "too_large", "an upload of 50 MiB and one byte");
    th_resp_free(&r);
    part.len = max - 4096;
    assert_int_equal(
        iu_multipart(&srv, "/api/v1/images", contrib, &part, 1, 0, &r), 0);
    kit_expect(&r, 415, "unsupported_format", "an upload just under 50 MiB");
    th_resp_free(&r);
    free(data);
    assert_true(kit_healthy());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packs),
        cmocka_unit_test(test_licence_prices),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_rendition_edges),
        cmocka_unit_test(test_royalty_tiers),
        cmocka_unit_test(test_payout_minimum),
        cmocka_unit_test(test_pixel_limits),
        cmocka_unit_test(test_upload_size),
    };

    return cmocka_run_group_tests_name("defaults", tests, setup, teardown);
}
