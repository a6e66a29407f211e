/* Stockroom — the files of web/, the headers every response carries, and
 * /metrics. The main server serves a web folder made here, with secrets
 * planted beside and inside it, so that a traversal would show. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "util.h"

#define RAW_MS 10000

static struct th_server srv;  /* serves root/web */
static struct th_server repo; /* serves the repository's web/ */
static char root[64];         /* root/web and its planted secrets */
static char web[128];

static const struct {
    const char *name, *mime, *body;
} files[] = {
    {"index.html", "text/html", "<!doctype html><title>i</title>INDEX"},
    {"404.html", "text/html", "<!doctype html><title>404</title>LOST"},
    {"app.js", "text/javascript", "export const a = 1; // APPJS\n"},
    {"mod.mjs", "text/javascript", "export default 2; // MJS\n"},
    {"style.css", "text/css", "body { color: #123; } /* CSS */\n"},
    {"robots.txt", "text/plain", "User-agent: *\nDisallow: /api/\n"},
    {"logo.svg", "image/svg+xml",
     "<svg xmlns=\"http://www.w3.org/2000/"
     "svg\"/>"},
    {"data.json", "application/json", "{\"json\":true}"},
    {"pic.png", "image/png", "\x89PNG\r\n\x1a\nnot really"},
    {"pic.jpg", "image/jpeg", "\xff\xd8\xff\xe0not really"},
    {"favicon.ico", "image/x-icon", "ICO"},
    {"font.woff2", "font/woff2", "wOF2"},
    {"sub/page.html", "text/html", "<!doctype html>SUBPAGE"},
};

/* Planted where no request may reach; each body is a marker that must
 * never come back. */
static const struct {
    const char *name, *body;
} secrets[] = {
    {"Makefile", "MARKER-PARENT-MAKEFILE"},
    {"secret.txt", "MARKER-PARENT-SECRET"},
    {"web/.hidden.txt", "MARKER-HIDDEN"},
    {"web/.git/config", "MARKER-GIT-CONFIG"},
    {"web/sub/.env.txt", "MARKER-SUB-HIDDEN"},
    {"web/notes.md", "MARKER-NO-MIME"},
    {"web/README", "MARKER-NO-EXTENSION"},
};

static int
plant(const char *rel, const char *body)
{
    char path[300], dir[300];

    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    /* mkdir -p of the file's folder. */
    for (char *p = dir + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    return tu_write_file(path, body, strlen(body));
}

static int
setup(void **state)
{
    char rel[200];
    const char *flags[] = {"--web", web, "--metrics-token", TU_METRICS_TOKEN,
                           NULL};

    (void)state;
    if (tu_tmpdir(root, sizeof root) < 0)
        return -1;
    snprintf(web, sizeof web, "%s/web", root);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(rel, sizeof rel, "web/%s", files[i].name);
        if (plant(rel, files[i].body) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        if (plant(secrets[i].name, secrets[i].body) < 0)
            return -1;
    }
    /* A folder whose name looks like a file. */
    snprintf(rel, sizeof rel, "%s/dir.html", web);
    if (mkdir(rel, 0755) < 0)
        return -1;
    if (th_start(&srv, flags) < 0)
        return -1;
    return th_start(&repo, NULL);
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);
    int rc2 = th_stop(&repo);

    (void)state;
    th_cleanup(&srv);
    th_cleanup(&repo);
    tu_rmtree(root);
    return rc ? rc : rc2;
}

static void
get(struct th_server *s, const char *path, const char *const *hdrs,
    struct th_resp *r)
{
    if (th_req(s, "GET", path, hdrs, NULL, 0, r) < 0)
        fail_msg("GET %s: no answer", path);
}

/* Nothing planted, and nothing of the host, is in the response. */
static void
assert_no_secret(const struct th_resp *r, const char *what)
{
    static const char *const leaks[] = {
        "MARKER-", "root:x:0:0", "root:", "[core]", "pkg-config",
    };

    for (size_t i = 0; i < sizeof leaks / sizeof leaks[0]; i++) {
        if (r->body && strstr(r->body, leaks[i]))
            fail_msg("%s: the response leaks '%s': %.200s", what, leaks[i],
                     r->body);
    }
}

/* ---- files -------------------------------------------------------------- */

static void
test_content_types(void **state)
{
    char path[200], v[256], what[220];
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "/%s", files[i].name);
        get(&srv, path, NULL, &r);
        snprintf(what, sizeof what, "GET %s", path);
        if (r.status != 200)
            fail_msg("%s: %ld", what, r.status);
        if (!th_header(&r, "Content-Type", v, sizeof v) ||
            strncmp(v, files[i].mime, strlen(files[i].mime)) != 0)
            fail_msg("%s: Content-Type '%s', want %s", what, v, files[i].mime);
        /* Text is sent with its charset, so no browser has to guess. */
        if (!strncmp(files[i].mime, "text/", 5) && !strstr(v, "utf-8"))
            fail_msg("%s: no charset in '%s'", what, v);
        assert_int_equal(r.len, strlen(files[i].body));
        assert_memory_equal(r.body, files[i].body, r.len);
        tu_assert_security_headers(&r, what);
        th_resp_free(&r);
    }
}

static void
test_root_is_index(void **state)
{
    struct th_resp r;
    char v[256];

    (void)state;
    get(&srv, "/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, files[0].body);
    assert_non_null(th_header(&r, "Content-Type", v, sizeof v));
    assert_memory_equal(v, "text/html", 9);
    th_resp_free(&r);
    /* HEAD: the same headers, no body. */
    assert_int_equal(th_req(&srv, "HEAD", "/index.html", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    assert_non_null(th_header(&r, "ETag", v, sizeof v));
    tu_assert_security_headers(&r, "HEAD /index.html");
    th_resp_free(&r);
}

static void
test_missing_files(void **state)
{
    static const char *const html[] = {"Accept: text/html,*/*;q=0.8", NULL};
    static const char *const paths[] = {
        "/nope.html", "/nope.txt",    "/sub/nope.css", "/secret.txt",
        "/notes.md",  "/README",      "/sub",          "/sub/",
        "/dir.html",  "/index.html/", "/index.htm",    "/INDEX.HTML",
    };
    struct th_resp r;
    char v[256];

    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        get(&srv, paths[i], NULL, &r);
        if (r.status != 404 || strcmp(th_error_code(&r), "not_found") != 0)
            fail_msg("GET %s: %ld %.200s", paths[i], r.status, r.body);
        assert_no_secret(&r, paths[i]);
        tu_assert_security_headers(&r, paths[i]);
        th_resp_free(&r);
    }
    /* A browser asking for a page gets the page for missing pages, still
     * with status 404. */
    get(&srv, "/nope.html", html, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, files[1].body);
    assert_non_null(th_header(&r, "Content-Type", v, sizeof v));
    assert_memory_equal(v, "text/html", 9);
    tu_assert_security_headers(&r, "404 page");
    th_resp_free(&r);
    /* The API stays JSON even for a browser. */
    get(&srv, "/api/v1/nope", html, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(th_error_code(&r), "not_found");
    th_resp_free(&r);
}

static void
test_path_traversal(void **state)
{
    static const char *const paths[] = {
        "/../etc/passwd",
        "/../../../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2fMakefile",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/....//secret.txt",
        "/..;/secret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%00index.html",
        "/index.html%00.txt",
        "/index.html%00",
        "/%00../secret.txt",
        "//etc/passwd",
        "///etc/passwd",
        "//"
        "/../secret.txt",
        "/%2fetc%2fpasswd",
        "/%2f%2e%2e%2fsecret.txt",
        "/etc/passwd",
        "/proc/self/environ",
        "/.git/config",
        "/%2egit/config",
        "/.git/../index.html",
        "/.hidden.txt",
        "/sub/.env.txt",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/sub\\..\\..\\secret.txt",
        "/\\etc\\passwd",
        "/..%5c..%5cetc%5cpasswd",
        "/%5cetc%5cpasswd",
        "/..",
        "/.",
        "/./index.html",
        "/%2e",
        "/%2e%2e",
    };
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        get(&srv, paths[i], NULL, &r);
        assert_no_secret(&r, paths[i]);
        if (r.status != 404)
            fail_msg("GET %s: %ld, want 404: %.200s", paths[i], r.status,
                     r.body);
        tu_assert_security_headers(&r, paths[i]);
        th_resp_free(&r);
    }
}

/* Request targets libcurl will not send: absolute forms and relative
 * paths. */
static void
test_path_traversal_raw(void **state)
{
    static const char *const targets[] = {
        "http://127.0.0.1/../secret.txt",
        "http://127.0.0.1/../../etc/passwd",
        "http://127.0.0.1//etc/passwd",
        "file:///etc/passwd",
        "../secret.txt",
        "etc/passwd",
        "secret.txt",
        "*",
        "/../secret.txt",
        "/sub/../../secret.txt",
    };
    char req[512], *out = malloc(65536);

    (void)state;
    assert_non_null(out);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        int status;

        snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Connection: close\r\n\r\n",
                 targets[i]);
        status =
            tu_raw_exchange(srv.port, req, strlen(req), out, 65536, RAW_MS);
        if (strstr(out, "MARKER-") || strstr(out, "root:"))
            fail_msg("GET %s leaks: %.200s", targets[i], out);
        /* 404, or 400 from the HTTP layer for a target it will not read;
         * or a closed connection. */
        if (status != 404 && status != 400 && status != 0)
            fail_msg("GET %s: %d", targets[i], status);
    }
    free(out);
    assert_true(tu_healthy(&srv));
}

static void
test_etag_and_304(void **state)
{
    char etag[128], inm[200], v[128], path[300];
    const char *hdrs[2] = {inm, NULL};
    struct th_resp r;

    (void)state;
    get(&srv, "/style.css", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(th_header(&r, "ETag", etag, sizeof etag));
    /* A strong validator is a quoted string. */
    assert_true(strlen(etag) > 2 && etag[0] == '"' &&
                etag[strlen(etag) - 1] == '"');
    /* Stale files must be revalidated, not served from a cache blindly. */
    assert_non_null(th_header(&r, "Cache-Control", v, sizeof v));
    th_resp_free(&r);

    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    get(&srv, "/style.css", hdrs, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    assert_non_null(th_header(&r, "ETag", v, sizeof v));
    assert_string_equal(v, etag);
    tu_assert_security_headers(&r, "304");
    th_resp_free(&r);

    /* Another file's tag, or a made-up one, gets the file. */
    snprintf(inm, sizeof inm, "If-None-Match: \"0-0\"");
    get(&srv, "/style.css", hdrs, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, files[4].body);
    th_resp_free(&r);

    /* A changed file has a new tag, and the old one no longer matches. */
    snprintf(path, sizeof path, "%s/style.css", web);
    assert_int_equal(tu_write_file(path, "body{}/* changed, longer */", 27), 0);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    get(&srv, "/style.css", hdrs, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "body{}/* changed, longer */");
    assert_non_null(th_header(&r, "ETag", v, sizeof v));
    assert_string_not_equal(v, etag);
    th_resp_free(&r);
    assert_int_equal(tu_write_file(path, files[4].body, strlen(files[4].body)),
                     0);
}

/* The repository's own web/ folder, as `make run` serves it. */
static void
test_repo_web(void **state)
{
    static const char *const escapes[] = {
        "/..%2fMakefile",        "/../Makefile",    "/%2e%2e/Makefile",
        "/..%2f.git%2fconfig",   "/../.git/config", "/%2e%2e/.git/config",
        "/..%2fserver%2fmain.c", "/..%5cMakefile",
    };
    struct th_resp r;
    char v[256], body[4096];
    FILE *f;
    size_t n;

    (void)state;
    f = fopen("web/robots.txt", "rb");
    assert_non_null(f);
    n = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[n] = '\0';
    get(&repo, "/robots.txt", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, body);
    assert_non_null(th_header(&r, "Content-Type", v, sizeof v));
    assert_memory_equal(v, "text/plain", 10);
    th_resp_free(&r);
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        get(&repo, escapes[i], NULL, &r);
        assert_no_secret(&r, escapes[i]);
        if (r.status != 404 || strstr(r.body, "#include"))
            fail_msg("GET %s: %ld %.200s", escapes[i], r.status, r.body);
        th_resp_free(&r);
    }
}

/* ---- headers on every response ------------------------------------------ */

static void
test_security_headers_everywhere(void **state)
{
    static const struct {
        const char *method, *path, *body;
        long status;
    } cases[] = {
        {"GET", "/healthz", NULL, 200},
        {"GET", "/metrics", NULL, 404},
        {"GET", "/index.html", NULL, 200},
        {"GET", "/", NULL, 200},
        {"GET", "/nope.txt", NULL, 404},
        {"GET", "/api/v1/nope", NULL, 404},
        {"GET", "/%00", NULL, 404},
        {"GET", "/api/v1/me", NULL, 401},
        {"PUT", "/api/v1/me", NULL, 405},
        {"POST", "/api/v1/users", "{", 400},
        {"POST", "/api/v1/users", "{}", 422},
        {"POST", "/api/v1/sessions",
         "{\"email\":\"x@example.com\","
         "\"password\":\"nope nope nope\"}",
         401},
        {"GET", "/healthz", "x", 413},
    };
    static const char early[] = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                                "Content-Length: 99999999\r\n\r\n";
    struct th_resp r;
    char what[128], out[8192];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(what, sizeof what, "%s %s", cases[i].method, cases[i].path);
        assert_int_equal(th_req(&srv, cases[i].method, cases[i].path, NULL,
                                cases[i].body,
                                cases[i].body ? strlen(cases[i].body) : 0, &r),
                         0);
        if (r.status != cases[i].status)
            fail_msg("%s: %ld, want %ld", what, r.status, cases[i].status);
        tu_assert_security_headers(&r, what);
        th_resp_free(&r);
    }
    /* A refusal made before the body is read carries them too. */
    assert_int_equal(tu_raw_exchange(srv.port, early, sizeof early - 1, out,
                                     sizeof out, RAW_MS),
                     413);
    r = (struct th_resp){.headers = out};
    tu_assert_security_headers(&r, "early 413");
}

/* ---- /metrics ----------------------------------------------------------- */

static double
counter(const char *route, const char *status)
{
    char series[200];
    double v;

    snprintf(series, sizeof series,
             "stockroom_http_requests_total{route=\""
             "%s\",status=\"%s\"}",
             route, status);
    v = tu_metric(&srv, series);
    /* A counter not yet seen is not printed: it is zero. */
    return v < 0 ? 0 : v;
}

static void
test_metrics_format(void **state)
{
    static const char *const bearer[] = {
        "Authorization: Bearer " TU_METRICS_TOKEN, NULL};
    static const char *const types[] = {
        "# TYPE stockroom_http_requests_total counter",
        "# TYPE stockroom_http_request_duration_seconds histogram",
        "# TYPE stockroom_http_open_connections gauge",
        "# TYPE stockroom_http_requests_in_flight gauge",
    };
    regex_t sample;
    struct th_resp r;
    char v[256], *text, *save = NULL;

    (void)state;
    get(&srv, "/metrics", bearer, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(th_header(&r, "Content-Type", v, sizeof v));
    assert_memory_equal(v, "text/plain", 10);
    assert_non_null(strstr(v, "version=0.0.4"));
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (!strstr(r.body, types[i]))
            fail_msg("/metrics lacks '%s'", types[i]);
    }
    /* Every sample line is name{labels} value, as Prometheus parses it. */
    assert_int_equal(regcomp(&sample,
                             "^[a-zA-Z_:][a-zA-Z0-9_:]*"
                             "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*\\})? "
                             "(-?[0-9.]+(e[-+]?[0-9]+)?|\\+Inf|NaN)$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    text = strdup(r.body);
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        if (regexec(&sample, line, 0, NULL, 0) != 0)
            fail_msg("/metrics: not a sample: '%s'", line);
    }
    free(text);
    regfree(&sample);
    assert_true(r.body[r.len - 1] == '\n');
    th_resp_free(&r);
}

static void
test_metrics_count_requests(void **state)
{
    double ok, nf, un, hist, cnt, inf;
    struct th_resp r;

    (void)state;
    ok = counter("healthz", "200");
    nf = counter("static", "404");
    un = counter("me", "401");
    hist = tu_metric(&srv, "stockroom_http_request_duration_seconds_count"
                           "{route=\"healthz\"}");
    assert_true(tu_healthy(&srv));
    assert_true(tu_healthy(&srv));
    get(&srv, "/nope.txt", NULL, &r);
    th_resp_free(&r);
    get(&srv, "/api/v1/me", NULL, &r);
    th_resp_free(&r);
    /* Nobody else talks to this server: the deltas are exact. */
    assert_true(counter("healthz", "200") == ok + 2);
    assert_true(counter("static", "404") == nf + 1);
    assert_true(counter("me", "401") == un + 1);
    cnt = tu_metric(&srv, "stockroom_http_request_duration_seconds_count"
                          "{route=\"healthz\"}");
    assert_true(cnt == (hist < 0 ? 0 : hist) + 2);
    inf = tu_metric(&srv, "stockroom_http_request_duration_seconds_bucket"
                          "{route=\"healthz\",le=\"+Inf\"}");
    assert_true(inf == cnt);
    assert_true(tu_metric(&srv, "stockroom_http_request_duration_seconds_sum"
                                "{route=\"healthz\"}") >= 0);
}

static void
test_metrics_histogram_cumulative(void **state)
{
    static const char *const les[] = {
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
        "0.25",  "0.5",    "1",     "2.5",  "5",     "10",   "+Inf",
    };
    char series[200];
    double prev = 0;

    (void)state;
    assert_true(tu_healthy(&srv));
    for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
        double v;

        snprintf(series, sizeof series,
                 "stockroom_http_request_duration_"
                 "seconds_bucket{route=\"healthz\",le=\"%s\"}",
                 les[i]);
        v = tu_metric(&srv, series);
        if (v < prev)
            fail_msg("bucket le=%s is %g, below the one before (%g)", les[i], v,
                     prev);
        prev = v;
    }
    assert_true(prev >= 1);
}

static void
test_metrics_open_connections(void **state)
{
    int fd[3];

    (void)state;
    /* Only the /metrics request's own connection. */
    assert_true(
        tu_wait_metric(&srv, "stockroom_http_open_connections", 1, 1, RAW_MS));
    assert_true(tu_wait_metric(&srv, "stockroom_http_requests_in_flight", 1, 1,
                               RAW_MS));
    for (int i = 0; i < 3; i++) {
        fd[i] = tu_connect(srv.port);
        assert_true(fd[i] >= 0);
    }
    assert_true(
        tu_wait_metric(&srv, "stockroom_http_open_connections", 4, 4, RAW_MS));
    for (int i = 0; i < 3; i++)
        close(fd[i]);
    assert_true(
        tu_wait_metric(&srv, "stockroom_http_open_connections", 1, 1, RAW_MS));
}

/* A request refused before routing (a bad path) belongs to no route. */
static void
test_metrics_unrouted_requests(void **state)
{
    double before, after;
    struct th_resp r;

    (void)state;
    before = counter("unmatched", "404");
    get(&srv, "/index.html%00.txt", NULL, &r);
    assert_int_equal(r.status, 404);
    th_resp_free(&r);
    after = counter("unmatched", "404");
    /* Counting it under the first route of the table would make /healthz
     * look broken on a dashboard. */
    if (counter("healthz", "404") != 0)
        fail_msg("a refused path was counted as route=\"healthz\" 404");
    assert_true(after == before + 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_root_is_index),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_path_traversal),
        cmocka_unit_test(test_path_traversal_raw),
        cmocka_unit_test(test_etag_and_304),
        cmocka_unit_test(test_repo_web),
        cmocka_unit_test(test_security_headers_everywhere),
        cmocka_unit_test(test_metrics_format),
        cmocka_unit_test(test_metrics_count_requests),
        cmocka_unit_test(test_metrics_histogram_cumulative),
        cmocka_unit_test(test_metrics_open_connections),
        cmocka_unit_test(test_metrics_unrouted_requests),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
