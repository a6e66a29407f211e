/* Stockroom — unit tests of the server's pure parts: configuration from
 * defaults, environment and flags, and the checks on text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "config.h"
#include "parse.h"
#include "text.h"

static void
test_defaults(void **state)
{
    struct config c;

    (void)state;
    cfg_defaults(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.data_dir, "var");
    assert_int_equal(c.min_pixels, 4000000);
    assert_int_equal(c.max_pixels, 100000000);
    assert_int_equal(c.upload_limit, 50LL * 1024 * 1024);
    assert_int_equal(c.n_packs, 3);
    assert_int_equal(c.packs[1].credits, 30);
    assert_int_equal(c.packs[1].price_cents, 3900);
    assert_int_equal(c.payout_min_cents, 2500);
    assert_true(c.workers >= 1);
}

static void
test_flags(void **state)
{
    char *argv[] = {"--listen",
                    "0.0.0.0:9000",
                    "--data=/tmp/x",
                    "--min-megapixels",
                    "0.25",
                    "--workers",
                    "3",
                    "--max-upload-mb",
                    "2",
                    "rest"};
    struct config c;
    char err[256];
    int used = 0;

    (void)state;
    cfg_defaults(&c);
    assert_int_equal(cfg_from_args(&c, 10, argv, &used, err, sizeof err), 0);
    assert_int_equal(used, 1);
    assert_string_equal(argv[0], "rest");
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_int_equal(c.min_pixels, 250000);
    assert_int_equal(c.workers, 3);
    assert_int_equal(c.upload_limit, 2 * 1024 * 1024);
}

/* Global flags anywhere: before, between and after a command's own flags
 * and operands, which keep their order. */
static void
test_flags_any_order(void **state)
{
    static const char *const orders[][7] = {
        {"--data", "d1", "--email", "e@x.org", "--role", "admin", NULL},
        {"--email", "e@x.org", "--data", "d1", "--role", "admin", NULL},
        {"--email", "e@x.org", "--role", "admin", "--data", "d1", NULL},
        {"--email", "e@x.org", "--role", "admin", "--data=d1", NULL},
        {"--email", "e@x.org", "--workers=2", "--role", "admin", "--data",
         "d1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        char *argv[7];
        int argc = 0, rest = -1;
        struct config c;
        char err[256];

        while (argc < 7 && orders[i][argc]) {
            argv[argc] = (char *)orders[i][argc];
            argc++;
        }
        cfg_defaults(&c);
        assert_int_equal(cfg_from_args(&c, argc, argv, &rest, err, sizeof err),
                         0);
        assert_string_equal(c.data_dir, "d1");
        assert_int_equal(rest, 4);
        assert_string_equal(argv[0], "--email");
        assert_string_equal(argv[1], "e@x.org");
        assert_string_equal(argv[2], "--role");
        assert_string_equal(argv[3], "admin");
    }
}

/* A command flag's value is never taken for a global flag, and "--" ends
 * the flags. */
static void
test_flags_values_kept(void **state)
{
    char *argv[] = {"--name", "--data", "--", "--workers", "3"};
    struct config c;
    char err[256];
    int rest = -1;

    (void)state;
    cfg_defaults(&c);
    assert_int_equal(cfg_from_args(&c, 5, argv, &rest, err, sizeof err), 0);
    assert_int_equal(rest, 4);
    assert_string_equal(argv[0], "--name");
    assert_string_equal(argv[1], "--data");
    assert_string_equal(argv[2], "--workers");
    assert_string_equal(argv[3], "3");
}

/* The parsers of parse.h, the ones the fuzz targets drive. */
static void
test_parsers(void **state)
{
    char esc[] = "/a%2Fb%00c+d%zz";
    char segs[64];
    const char *params[2] = {0};
    const char *tok = NULL;
    int64_t n = 0;

    (void)state;
    assert_int_equal(srv_parse_unescape(esc), 11);
    assert_string_equal(esc, "/a/b\x7f"
                             "c d%zz");
    assert_false(srv_parse_path_ok(esc + 1));
    assert_false(srv_parse_path_ok("/a\\b"));
    assert_false(srv_parse_path_ok("/a\x7f"));
    assert_true(srv_parse_path_ok("/api/v1/images"));
    assert_true(srv_parse_etag_matches("W/\"x\", \"y\"", "\"x\""));
    assert_true(srv_parse_etag_matches("*", "\"x\""));
    assert_false(srv_parse_etag_matches("\"xy\"", "\"x\""));
    assert_false(srv_parse_etag_matches("", "\"x\""));
    assert_true(srv_parse_json_too_deep("[[[", 3, 2));
    assert_false(srv_parse_json_too_deep("[\"[[[\"]", 7, 2));
    assert_int_equal(srv_parse_int("42", 0, 100, &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(srv_parse_int("101", 0, 100, &n), -1);
    assert_int_equal(srv_parse_int("4x", 0, 100, &n), -1);
    assert_int_equal(srv_parse_int("", 0, 100, &n), -1);
    assert_int_equal(n, 42);
    assert_int_equal(srv_parse_bearer("bearer abc", &tok), 0);
    assert_string_equal(tok, "abc");
    assert_int_equal(srv_parse_bearer("Basic abc", &tok), -1);
    assert_true(srv_parse_route_match("/api/v1/lightboxes/{}/images/{}",
                                      "/api/v1/lightboxes/b1/images/i2", segs,
                                      sizeof segs, params, 2));
    assert_string_equal(params[0], "b1");
    assert_string_equal(params[1], "i2");
    assert_false(srv_parse_route_match("/api/v1/images/{}", "/api/v1/images/",
                                       segs, sizeof segs, params, 2));
    assert_false(srv_parse_route_match("/api/v1/images", "/api/v1/images/x",
                                       segs, sizeof segs, params, 2));
    assert_false(
        srv_parse_route_match("/a/{}", "", segs, sizeof segs, params, 2));
}

static void
test_bad_flags(void **state)
{
    static char *bad[][2] = {
        {"--listen", "nohost"},
        {"--listen", "a:70000"},
        {"--listen", ":80"},
        {"--workers", "0"},
        {"--workers", "x"},
        {"--min-megapixels", "-1"},
        {"--min-megapixels", "1e3"},
        {"--log-level", "loud"},
        {"--payment-provider", "stripe"},
        {"--workers", ""},
    };
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct config c;
        int used = 0;

        cfg_defaults(&c);
        err[0] = '\0';
        assert_int_equal(cfg_from_args(&c, 2, bad[i], &used, err, sizeof err),
                         -1);
        assert_true(err[0] != '\0');
    }
}

static void
test_min_above_max(void **state)
{
    char *argv[] = {"--min-megapixels", "200"};
    struct config c;
    char err[256];
    int used;

    (void)state;
    cfg_defaults(&c);
    assert_int_equal(cfg_from_args(&c, 2, argv, &used, err, sizeof err), -1);
}

static void
test_env(void **state)
{
    struct config c;
    char err[256];

    (void)state;
    setenv("STOCKROOM_PUBLIC_URL", "https://photos.example", 1);
    setenv("STOCKROOM_WORKERS", "5", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.public_url, "https://photos.example");
    assert_int_equal(c.workers, 5);
    setenv("STOCKROOM_WORKERS", "many", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), -1);
    unsetenv("STOCKROOM_WORKERS");
    unsetenv("STOCKROOM_PUBLIC_URL");
}

static void
test_text(void **state)
{
    static const char *const good[] = {
        "",
        "plain",
        "tab\there",
        "line\nbreak",
        "caf\xc3\xa9",
        "\xe2\x82\xac 5",
        "\xf0\x9f\x93\xb7 camera",
        "\xf4\x8f\xbf\xbf",
    };
    static const char *const bad[] = {
        "nul\x01",          "del\x7f",      "\xc0\x80",
        "\xc1\xbf",         "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xff",         "\xc3",
        "\xe2\x82",         "\x80 alone",   "\xf8\x88\x80\x80\x80",
    };

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(text_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(text_ok(bad[i]));
}

static void
test_email(void **state)
{
    static const char *const good[] = {
        "a@b.co",
        "first.last+tag@example.com",
        "X@Y.ORG",
    };
    static const char *const bad[] = {
        "",       "a",         "@b.com",     "a@",
        "a@b",    "a@@b.com",  "a b@c.com",  "a@b.com.",
        "a@.com", "<a@b.com>", "a\"b@c.com", "a@b.com,c@d.com",
    };

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(text_email_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(text_email_ok(bad[i]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_flags_any_order),
        cmocka_unit_test(test_flags_values_kept),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_min_above_max),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_email),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
