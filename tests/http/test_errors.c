/* Stockroom — the error policy over HTTP: a locked database answers 503
 * with Retry-After, "not found" is a 404 and nothing else is, and the
 * command line takes its global flags in any order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"

static struct th_server srv;
static char buyer_tok[128];

/* method path as token with a JSON body under a fresh Idempotency-Key;
 * fails the test unless the answer is status with error code (NULL: a
 * success, no code). */
static void
expect(const char *method, const char *path, const char *token,
       const char *body, long status, const char *code, const char *what)
{
    char key[64];
    struct th_resp r;

    kit_fresh_key(key, "errors");
    kit_call(method, path, token, key, body, &r);
    kit_expect(&r, status, code, what);
    th_resp_free(&r);
}

static int
setup(void **state)
{
    (void)state;
    if (th_start(&srv, NULL) < 0)
        return -1;
    kit_use(&srv);
    th_new_user(&srv, "errors-buyer", buyer_tok);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    th_stop(&srv);
    th_cleanup(&srv);
    return 0;
}

/* A licence for an image that does not exist is a 404; a bad size or type
 * is a 422 whatever the image; neither is the other. */
static void
test_licence_not_found_vs_invalid(void **state)
{
    (void)state;
    expect("POST", "/api/v1/licences", buyer_tok,
           "{\"image_id\":\"i0000000000000000\",\"size\":\"S\"}", 404,
           "not_found", "licence of a missing image");
    expect("POST", "/api/v1/licences", buyer_tok,
           "{\"image_id\":\"i0000000000000000\",\"size\":\"HUGE1\"}", 422,
           "invalid_field", "licence at a size too long to exist");
    expect("POST", "/api/v1/licences", buyer_tok,
           "{\"image_id\":\"i0000000000000000\",\"size\":\"S\","
           "\"type\":\"forever\"}",
           422, "invalid_field", "licence of an unknown type");
    expect("POST", "/api/v1/licences", buyer_tok, "{\"size\":\"S\"}", 422,
           "missing_field", "licence without an image");
}

/* A cursor that no list handed out is invalid_cursor on every list; a
 * filter value outside its set is invalid_parameter. */
static void
test_bad_cursor_and_filter(void **state)
{
    static const char *const lists[] = {
        "/api/v1/me/payouts?cursor=garbage",
        "/api/v1/me/licences?cursor=garbage",
        "/api/v1/me/images?cursor=garbage",
    };

    (void)state;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        expect("GET", lists[i], buyer_tok, NULL, 422, "invalid_cursor",
               lists[i]);
    expect("GET", "/api/v1/me/payouts?status=lost", buyer_tok, NULL, 422,
           "invalid_parameter", "payouts in a status that does not exist");
}

/* Lookups of things that are not there: 404 not_found, each resource. */
static void
test_not_found(void **state)
{
    (void)state;
    expect("GET", "/api/v1/licences/l0000000000000000/download", buyer_tok,
           NULL, 404, "not_found", "download of a missing licence");
    expect("GET", "/api/v1/licences/l0000000000000000/certificate", NULL, NULL,
           404, "not_found", "certificate of a missing licence");
    expect("GET", "/api/v1/images/i0000000000000000", NULL, NULL, 404,
           "not_found", "a missing image");
    expect("GET", "/images/i0000000000000000/preview.jpg", NULL, NULL, 404,
           "not_found", "the preview of a missing image");
    expect("GET", "/api/v1/contributors/u0000000000000000", NULL, NULL, 404,
           "not_found", "a missing contributor");
    expect("GET", "/api/v1/lightboxes/b0000000000000000", buyer_tok, NULL, 404,
           "not_found", "a missing lightbox");
    expect("POST", "/api/v1/credits/purchases/p0000000000000000/refund",
           buyer_tok, NULL, 404, "not_found", "refund of a missing purchase");
}

/* A writer that cannot get the database lock answers 503 busy with a
 * Retry-After, on every kind of write; once the lock is gone the same
 * requests succeed. The lock is taken from this process, through the
 * database file, as another writer would. */
static void
test_busy_is_503(void **state)
{
    char path[400], email[128], body[300];
    sqlite3 *db = NULL;

    (void)state;
    snprintf(path, sizeof path, "%s/stockroom.db", srv.dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    tu_email("errors-busy", email, sizeof email);
    snprintf(body, sizeof body,
             "{\"email\":\"%s\",\"password\":\"" PW "\",\"name\":\"Busy\"}",
             email);
    expect("POST", "/api/v1/users", NULL, body, 503, "busy",
           "sign-up while the database is locked");
    expect("POST", "/api/v1/credits/purchases", buyer_tok, "{\"pack\":\"10\"}",
           503, "busy", "a purchase while the database is locked");
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect("POST", "/api/v1/users", NULL, body, 201, NULL,
           "sign-up once the lock is gone");
    expect("POST", "/api/v1/credits/purchases", buyer_tok, "{\"pack\":\"10\"}",
           201, NULL, "a purchase once the lock is gone");
    assert_int_equal(tu_ledger_verify(srv.dir), 0);
}

/* `user add` with --data before, between and after its own flags, and
 * --data=DIR: each account is made in the server's directory and can sign
 * in. */
static void
test_cli_flags_any_order(void **state)
{
    char email[4][128], data_eq[300], out[2048], err[2048];
    char token[128], csrf[64];

    (void)state;
    for (int i = 0; i < 4; i++)
        tu_email("errors-cli", email[i], sizeof email[i]);
    snprintf(data_eq, sizeof data_eq, "--data=%s", srv.dir);
    {
        const char *const orders[4][9] = {
            {"x", "user", "add", "--data", srv.dir, "--email", email[0],
             "--role", "admin"},
            {"x", "user", "add", "--email", email[1], "--data", srv.dir,
             "--role", "admin"},
            {"x", "user", "add", "--email", email[2], "--role", "admin",
             "--data", srv.dir},
            {"x", "user", "add", "--role", "reviewer", data_eq, "--email",
             email[3], NULL},
        };

        for (int i = 0; i < 4; i++) {
            const char *argv[10] = {0};

            memcpy(argv, orders[i], sizeof orders[i]);
            if (tu_run(argv, PW "\n", out, sizeof out, err, sizeof err,
                       60000) != 0)
                fail_msg("order %d: %s", i, err);
            if (th_login(&srv, email[i], PW, token, csrf) != 201)
                fail_msg("order %d: the account cannot sign in", i);
        }
    }
    {
        const char *verify[] = {"x",      "ledger", "verify",
                                "--data", srv.dir,  NULL};
        const char *missing[] = {"x",      "user",   "add", "--email",
                                 email[0], "--data", NULL};

        assert_int_equal(
            tu_run(verify, NULL, out, sizeof out, err, sizeof err, 60000), 0);
        /* A global flag without its value is a usage error wherever it is. */
        assert_int_equal(
            tu_run(missing, PW "\n", out, sizeof out, err, sizeof err, 60000),
            2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_licence_not_found_vs_invalid),
        cmocka_unit_test(test_bad_cursor_and_filter),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_busy_is_503),
        cmocka_unit_test(test_cli_flags_any_order),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
