/* Stockroom — hardening found in review (issue 11, items 9, 12 and 13):
 * JSON bodies that must say so, sign-in from another site's page, the
 * metrics kept for the operator, private files and descriptors, and a new
 * password that ends the old sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define RAW_MS 10000

static struct th_server srv;

static int
setup(void **state)
{
    static const char *const flags[] = {"--metrics-token", TU_METRICS_TOKEN,
                                        "--metrics-listen", "127.0.0.1:0",
                                        NULL};

    (void)state;
    kit_use(&srv);
    return th_start(&srv, flags);
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    return rc;
}

/* A raw POST with exactly the Content-Type line given ("" for none). */
static int
raw_post(const char *path, const char *type_line, const char *body, char *out,
         size_t cap)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     path, type_line, strlen(body), body);

    return tu_raw_exchange(srv.port, req, (size_t)n, out, cap, RAW_MS);
}

/* ---- item 9: a JSON body says it is JSON ---------------------------- */

static void
test_json_body_needs_json_type(void **state)
{
    static const char *const refused[] = {
        "",
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "Content-Type: multipart/form-data; boundary=x\r\n",
        "Content-Type: application/jsonp\r\n",
        "Content-Type: text/plain; application/json\r\n",
    };
    static const char *const accepted[] = {
        "Content-Type: application/json\r\n",
        "Content-Type: application/json; charset=utf-8\r\n",
        "Content-Type: Application/JSON;charset=UTF-8\r\n",
    };
    char out[8192], email[128], *body;
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        tu_email("type", email, sizeof email);
        body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                       "Type");
        if (raw_post("/api/v1/users", refused[i], body, out, sizeof out) !=
                415 ||
            !strstr(out, "\"unsupported_media_type\""))
            fail_msg("sign-up with '%s': want 415 unsupported_media_type, "
                     "got: %.300s",
                     refused[i], out);
        free(body);
        /* Sign-in is refused the same way, before any password check. */
        body = tu_json("{s:s,s:s}", "email", email, "password", PW);
        if (raw_post("/api/v1/sessions", refused[i], body, out, sizeof out) !=
            415)
            fail_msg("sign-in with '%s': got %.300s", refused[i], out);
        free(body);
    }
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        tu_email("type", email, sizeof email);
        body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                       "Type");
        if (raw_post("/api/v1/users", accepted[i], body, out, sizeof out) !=
            201)
            fail_msg("sign-up with '%s': got %.300s", accepted[i], out);
        free(body);
    }
    /* No body needs no type: a JSON route answers for the missing body,
     * a route without one just works. */
    if (raw_post("/api/v1/sessions", "", "", out, sizeof out) != 400 ||
        !strstr(out, "\"malformed_json\""))
        fail_msg("an empty sign-in: %.300s", out);
    kit_call("GET", "/healthz", NULL, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "healthz");
    th_resp_free(&r);
}

/* ---- item 9: sign-in only from our own pages ------------------------ */

static void
test_signin_refuses_cross_site(void **state)
{
    char email[128], origin[128], *body;
    static const char *const cross[][2] = {
        {"Origin: https://evil.example", NULL},
        {"Origin: null", NULL},
        {"Origin: http://127.0.0.1.evil.example", NULL},
        {"Sec-Fetch-Site: cross-site", NULL},
        {"Sec-Fetch-Site: same-site", NULL},
    };
    const char *ours[][3] = {
        {origin, "Sec-Fetch-Site: same-origin", NULL},
        {"Sec-Fetch-Site: none", NULL, NULL},
        {NULL, NULL, NULL},
    };
    struct th_resp r;

    (void)state;
    tu_email("site", email, sizeof email);
    assert_int_equal(th_signup(&srv, email, PW, "Site"), 201);
    body = tu_json("{s:s,s:s}", "email", email, "password", PW);
    for (size_t i = 0; i < sizeof cross / sizeof cross[0]; i++) {
        kit_call_h("POST", "/api/v1/sessions", NULL, cross[i], body, &r);
        kit_expect(&r, 403, "cross_site", cross[i][0]);
        th_resp_free(&r);
    }
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d", srv.port);
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        kit_call_h("POST", "/api/v1/sessions", NULL, ours[i], body, &r);
        kit_expect(&r, 201, NULL, ours[i][0] ? ours[i][0] : "no origin");
        th_resp_free(&r);
    }
    free(body);
}

/* ---- item 12: the metrics are the operator's ------------------------ */

static int
metrics_port(const char *log)
{
    char tail[65536];
    const char *p;

    tu_log_tail(log, tail, sizeof tail);
    p = strstr(tail, "metrics on http://127.0.0.1:");
    return p ? atoi(p + strlen("metrics on http://127.0.0.1:")) : 0;
}

static void
test_metrics_need_the_token(void **state)
{
    static const char *const wrong[][2] = {
        {NULL, NULL},
        {"Authorization: Bearer not-the-token", NULL},
        {"Authorization: Bearer " TU_METRICS_TOKEN "x", NULL},
        {"Authorization: Basic " TU_METRICS_TOKEN, NULL},
    };
    static const char *const right[] = {
        "Authorization: Bearer " TU_METRICS_TOKEN, NULL};
    struct th_server plain = {0}, side = {0};
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        kit_call_h("GET", "/metrics", NULL, wrong[i], NULL, &r);
        kit_expect(&r, 404, "not_found", wrong[i][0] ? wrong[i][0] : "none");
        th_resp_free(&r);
    }
    kit_call_h("GET", "/metrics", NULL, right, NULL, &r);
    kit_expect(&r, 200, NULL, "the operator's token");
    assert_non_null(strstr(r.body, "stockroom_http_requests_total"));
    th_resp_free(&r);
    /* The second listener serves them without a token, and nothing else. */
    side.port = metrics_port(srv.log);
    assert_true(side.port > 0);
    snprintf(side.base, sizeof side.base, "http://127.0.0.1:%d", side.port);
    assert_int_equal(
        kit_try_on(&side, "GET", "/metrics", NULL, NULL, NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "route=\"metrics\",status=\"200\""));
    th_resp_free(&r);
    kit_try_on(&side, "GET", "/api/v1/images", NULL, NULL, NULL, NULL, &r);
    kit_expect(&r, 404, "not_found", "the API on the metrics listener");
    th_resp_free(&r);
    /* Without --metrics-token there is nothing to open them with. */
    assert_int_equal(th_start(&plain, NULL), 0);
    kit_try_on(&plain, "GET", "/metrics", NULL, right, NULL, NULL, &r);
    kit_expect(&r, 404, "not_found", "metrics of a server with no token");
    th_resp_free(&r);
    assert_int_equal(th_stop(&plain), 0);
    th_cleanup(&plain);
}

/* ---- item 13: files, descriptors, passwords ------------------------- */

static unsigned
mode_of(const char *dir, const char *name)
{
    char path[400];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (lstat(path, &st) < 0)
        fail_msg("%s: missing", path);
    return (unsigned)(st.st_mode & 0777);
}

static void
test_private_files(void **state)
{
    struct th_server s = {0};
    char key[400], log[8192];
    mode_t old;

    (void)state;
    /* Started under a loose umask, as a careless service file might. */
    old = umask(0);
    assert_int_equal(th_start(&s, NULL), 0);
    umask(old);
    kit_use(&s);
    {
        char token[128];

        kit_new_user("files", token); /* something in the WAL */
    }
    kit_use(&srv);
    assert_int_equal(mode_of(s.dir, "stockroom.db"), 0600);
    assert_int_equal(mode_of(s.dir, "stockroom.db-wal"), 0600);
    assert_int_equal(mode_of(s.dir, "signing.key"), 0600);
    assert_int_equal(th_stop(&s), 0);
    /* A key others can read is refused at start. */
    snprintf(key, sizeof key, "%s/signing.key", s.dir);
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_not_equal(th_start(&s, NULL), 0);
    if (!strstr(tu_log_tail(s.log, log, sizeof log), "mode 0600"))
        fail_msg("no word on the key's mode:\n%s", log);
    /* And so is a key reached through a symbolic link. */
    {
        char moved[400];

        snprintf(moved, sizeof moved, "%s/elsewhere.key", s.dir);
        assert_int_equal(chmod(key, 0600), 0);
        assert_int_equal(rename(key, moved), 0);
        assert_int_equal(symlink(moved, key), 0);
        assert_int_not_equal(th_start(&s, NULL), 0);
        assert_int_equal(unlink(key), 0);
        assert_int_equal(rename(moved, key), 0);
    }
    assert_int_equal(th_start(&s, NULL), 0);
    assert_int_equal(th_stop(&s), 0);
    th_cleanup(&s);
}

static void
test_open_files_limit(void **state)
{
    char dir[256], logp[300], log[8192], port[16], limits[4096];
    struct rlimit old, low;
    pid_t pid;
    FILE *f;
    size_t n;

    (void)state;
    /* Our own soft limit lowered (the hard one kept): the server raises
     * its copy back to the hard limit. */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    {
        struct th_server s = {0};
        char path[64];

        assert_int_equal(th_start(&s, NULL), 0);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        snprintf(path, sizeof path, "/proc/%d/limits", (int)s.pid);
        f = fopen(path, "r");
        assert_non_null(f);
        n = fread(limits, 1, sizeof limits - 1, f);
        limits[n] = '\0';
        fclose(f);
        if (!strstr(tu_log_tail(s.log, log, sizeof log),
                    "open files limit raised from 256"))
            fail_msg("no word on the raised limit:\n%s\n%s", log, limits);
        assert_int_equal(th_stop(&s), 0);
        th_cleanup(&s);
    }
    /* A hard limit below what --max-connections needs: a warning. The
     * server tries our own port, so it stops right after the check. */
    assert_int_equal(tu_tmpdir(dir, sizeof dir), 0);
    snprintf(logp, sizeof logp, "%s/serve.log", dir);
    snprintf(port, sizeof port, "127.0.0.1:%d", srv.port);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit tight = {128, 128};
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fd < 0 || dup2(fd, 2) < 0 || setrlimit(RLIMIT_NOFILE, &tight) < 0)
            _exit(99);
        execl(tu_bin(), tu_bin(), "serve", "--listen", port, "--data", dir,
              "--max-connections", "1000", (char *)NULL);
        _exit(98);
    }
    assert_int_equal(tu_wait_exit(pid, 30000), 2);
    if (!strstr(tu_log_tail(logp, log, sizeof log),
                "open files limit 128 is below the"))
        fail_msg("no warning about the open files limit:\n%s", log);
    tu_rmtree(dir);
}

static void
test_new_password_ends_sessions(void **state)
{
    char email[128], token[128], other[128], auth[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    tu_email("staff", email, sizeof email);
    assert_int_equal(th_admin_add(&srv, email, "reviewer", PW), 0);
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 201);
    assert_int_equal(th_login(&srv, email, PW, other, NULL), 201);
    kit_check("GET", "/api/v1/me", token, NULL, 200, NULL, "before");
    assert_int_equal(
        th_admin_add(&srv, email, "reviewer", "a brand new password"), 0);
    hdrs[0] = th_bearer(token, auth, sizeof auth);
    kit_call_h("GET", "/api/v1/me", NULL, hdrs, NULL, &r);
    kit_expect(&r, 401, "invalid_token", "a session from the old password");
    th_resp_free(&r);
    kit_check("GET", "/api/v1/me", other, NULL, 401, "invalid_token",
              "the other old session");
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 401);
    assert_int_equal(th_login(&srv, email, "a brand new password", token, NULL),
                     201);
    kit_check("GET", "/api/v1/me", token, NULL, 200, NULL, "after");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_body_needs_json_type),
        cmocka_unit_test(test_signin_refuses_cross_site),
        cmocka_unit_test(test_metrics_need_the_token),
        cmocka_unit_test(test_private_files),
        cmocka_unit_test(test_open_files_limit),
        cmocka_unit_test(test_new_password_ends_sessions),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
