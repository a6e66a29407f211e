/* Stockroom — unit tests of the server's pure parts: configuration from
 * defaults, environment and flags, and the checks on text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "config.h"
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
    assert_int_equal(used, 9);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_int_equal(c.min_pixels, 250000);
    assert_int_equal(c.workers, 3);
    assert_int_equal(c.upload_limit, 2 * 1024 * 1024);
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

/* The blob store's flags: --s3-path-style is a switch that takes no
 * value, the store must be file or s3, and the defaults are the issue's. */
static void
test_blob_flags(void **state)
{
    char *argv[] = {
        "--blob-store", "s3", "--s3-path-style", "--s3-bucket", "photos",
        "--cache-mb",   "64", "--s3-prefix",     "shop/",       "stray"};
    char *bad[] = {"--blob-store", "ftp"};
    struct config c;
    char err[256];
    int used;

    (void)state;
    cfg_defaults(&c);
    assert_string_equal(c.blob_store, "file");
    assert_string_equal(c.s3_region, "us-east-1");
    assert_int_equal(c.cache_mb, 2048);
    assert_int_equal(c.s3_path_style, 0);
    assert_int_equal(cfg_from_args(&c, 10, argv, &used, err, sizeof err), 0);
    assert_int_equal(used, 9);
    assert_string_equal(c.blob_store, "s3");
    assert_int_equal(c.s3_path_style, 1);
    assert_string_equal(c.s3_bucket, "photos");
    assert_string_equal(c.s3_prefix, "shop/");
    assert_int_equal(c.cache_mb, 64);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_args(&c, 2, bad, &used, err, sizeof err), -1);
    assert_non_null(strstr(err, "file or s3"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_flags),
        cmocka_unit_test(test_bad_flags), cmocka_unit_test(test_min_above_max),
        cmocka_unit_test(test_env),       cmocka_unit_test(test_text),
        cmocka_unit_test(test_email),     cmocka_unit_test(test_blob_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
