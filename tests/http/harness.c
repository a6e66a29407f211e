/* Stockroom — integration test harness. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "mailbox.h"
#include "s3stand.h"

static const char *
bin_path(void)
{
    const char *b = getenv("STOCKROOM_BIN");

    return b && *b ? b : "build/stockroom";
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
th_poll(int (*fn)(void *), void *arg, int ms)
{
    long deadline = now_ms() + ms;
    struct timespec tick = {0, 50 * 1000 * 1000};

    while (!fn(arg)) {
        if (now_ms() > deadline)
            return 0;
        nanosleep(&tick, NULL);
    }
    return 1;
}

static int
read_port(void *arg)
{
    struct th_server *s = arg;
    char path[300];
    FILE *f;
    int status;

    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        return 1;
    }
    snprintf(path, sizeof path, "%s/port", s->dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%d", &s->port) != 1)
        s->port = 0;
    fclose(f);
    return s->port > 0;
}

static int
healthy(void *arg)
{
    struct th_server *s = arg;
    struct th_resp r;
    int ok;

    if (th_req(s, "GET", "/healthz", NULL, NULL, 0, &r) < 0)
        return 0;
    ok = r.status == 200;
    th_resp_free(&r);
    return ok;
}

int
th_start(struct th_server *s, const char *const *extra)
{
    char portfile[300];
    const char *argv[64];
    int n = 0;

    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/stockroom-test-XXXXXX");
        if (!mkdtemp(s->dir))
            return -1;
    }
    /* The test switch: the same tests against the S3 stand-in. */
    if (getenv("STOCKROOM_TEST_BLOB") &&
        !strcmp(getenv("STOCKROOM_TEST_BLOB"), "s3") &&
        s3s_use(s3s_shared(), s->dir) < 0) {
        fprintf(stderr, "harness: the S3 stand-in did not start\n");
        return -1;
    }
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    unlink(portfile);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    s->port = 0;
    argv[n++] = bin_path();
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--data";
    argv[n++] = s->dir;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--web";
    argv[n++] = "web";
    /* Most tests upload undescribed photos straight to review; the draft
     * rules' own test passes --min-keywords again. */
    argv[n++] = "--min-keywords";
    argv[n++] = "0";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (!th_poll(read_port, s, 30000) || s->pid == 0) {
        fprintf(stderr, "harness: server did not start; see %s\n", s->log);
        return -1;
    }
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    if (!th_poll(healthy, s, 30000)) {
        fprintf(stderr, "harness: server not healthy; see %s\n", s->log);
        return -1;
    }
    return 0;
}

static int
exited(void *arg)
{
    int *st = arg;
    pid_t pid = (pid_t)st[0];

    if (waitpid(pid, &st[1], WNOHANG) == pid) {
        st[2] = 1;
        return 1;
    }
    return 0;
}

static void
dump_log(const struct th_server *s)
{
    char cmd[400];

    snprintf(cmd, sizeof cmd,
             "grep -E 'ERROR|runtime error|Sanitizer|"
             "SUMMARY' %s | head -40 >&2",
             s->log);
    if (system(cmd) < 0)
        fprintf(stderr, "harness: see %s\n", s->log);
}

int
th_stop(struct th_server *s)
{
    int st[3] = {s->pid, 0, 0};

    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    if (!th_poll(exited, st, 30000)) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        return -1;
    }
    s->pid = 0;
    if (!WIFEXITED(st[1]) || WEXITSTATUS(st[1]) != 0) {
        dump_log(s);
        return WIFEXITED(st[1]) ? WEXITSTATUS(st[1]) : 128 + WTERMSIG(st[1]);
    }
    return 0;
}

void
th_crash(struct th_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

void
th_cleanup(struct th_server *s)
{
    char cmd[300];

    if (s->pid > 0)
        th_crash(s);
    if (s->dir[0] && !getenv("STOCKROOM_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", s->dir);
    }
    s->dir[0] = '\0';
}

struct buf {
    char *p;
    size_t len;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    char *grown = realloc(b->p, b->len + size * n + 1);

    if (!grown)
        return 0;
    b->p = grown;
    memcpy(b->p + b->len, data, size * n);
    b->len += size * n;
    b->p[b->len] = '\0';
    return size * n;
}

static int
perform(CURL *c, struct th_resp *out)
{
    struct buf body = {0}, hdr = {0};
    CURLcode rc;

    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    memset(out, 0, sizeof *out);
    if (rc != CURLE_OK) {
        free(body.p);
        free(hdr.p);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = body.p ? body.p : strdup("");
    out->len = body.len;
    out->headers = hdr.p ? hdr.p : strdup("");
    out->json = json_loadb(out->body, out->len, 0, NULL);
    return 0;
}

static char source[64];

void
th_source(const char *addr)
{
    snprintf(source, sizeof source, "%s", addr ? addr : "");
}

/* libcurl's "host!" form binds the address without a name lookup. */
static void
bind_source(CURL *c, const char *addr)
{
    char iface[80];

    if (!addr || !addr[0])
        return;
    snprintf(iface, sizeof iface, "host!%s", addr);
    curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

int
th_burst(struct th_server *s, const char *from, const char *method,
         const char *path, int n,
         void (*make)(int i, char *buf, size_t len, void *arg), void *arg,
         int counts[600])
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[2400], body[2048];
    int rc = 0;

    if (!c)
        return -1;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    bind_source(c, from);
    for (int i = 0; i < n && rc == 0; i++) {
        long status = 0;

        make(i, body, sizeof body, arg);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(body));
        if (curl_easy_perform(c) != CURLE_OK) {
            rc = -1;
            break;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status > 0 && status < 600)
            counts[status]++;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

int
th_req(struct th_server *s, const char *method, const char *path,
       const char *const *headers, const char *body, size_t len,
       struct th_resp *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[2400];
    int rc;

    if (!c)
        return -1;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    /* Keep the path as the test wrote it: no "../" folding by libcurl. */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    bind_source(c, source);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        int typed = 0;

        for (int i = 0; headers && headers[i]; i++)
            typed |= !strncasecmp(headers[i], "Content-Type:", 13);
        /* JSON unless the test names another type. */
        if (!typed)
            h = curl_slist_append(h, "Content-Type: application/json");
    }
    h = curl_slist_append(h, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc = perform(c, out);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

void
th_resp_free(struct th_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

const char *
th_header(const struct th_resp *r, const char *name, char *buf, size_t len)
{
    size_t nlen = strlen(name);

    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t llen = end ? (size_t)(end - line) : strlen(line);

        if (llen > nlen && line[nlen] == ':' &&
            !strncasecmp(line, name, nlen)) {
            const char *v = line + nlen + 1;

            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(llen - (size_t)(v - line)), v);
            return buf;
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

const char *
th_error_code(const struct th_resp *r)
{
    json_t *code =
        r->json ? json_object_get(json_object_get(r->json, "error"), "code")
                : NULL;

    return json_is_string(code) ? json_string_value(code) : "";
}

long
th_signup(struct th_server *s, const char *email, const char *pw,
          const char *name)
{
    char *body = NULL;
    struct th_resp r;
    long status;
    json_t *j = json_pack("{s:s,s:s,s:s}", "email", email, "password", pw,
                          "name", name);

    body = json_dumps(j, 0);
    json_decref(j);
    if (th_req(s, "POST", "/api/v1/users", NULL, body, strlen(body), &r) < 0) {
        free(body);
        return -1;
    }
    free(body);
    status = r.status;
    th_resp_free(&r);
    /* Uploads and payouts need a verified address: do what the person
     * would, and follow the link in the mail. */
    if (status == 201 && tm_verify_from_outbox(s, email) < 0) {
        fprintf(stderr, "harness: no verification mail for %s\n", email);
        return -1;
    }
    return status;
}

long
th_login(struct th_server *s, const char *email, const char *pw,
         char token[128], char csrf[64])
{
    json_t *j = json_pack("{s:s,s:s}", "email", email, "password", pw);
    char *body = json_dumps(j, 0);
    struct th_resp r;
    long status;

    json_decref(j);
    if (th_req(s, "POST", "/api/v1/sessions", NULL, body, strlen(body), &r) <
        0) {
        free(body);
        return -1;
    }
    free(body);
    status = r.status;
    if (status == 201 && r.json) {
        snprintf(token, 128, "%s",
                 json_string_value(json_object_get(r.json, "token")));
        if (csrf)
            snprintf(csrf, 64, "%s",
                     json_string_value(json_object_get(r.json, "csrf_token")));
    }
    th_resp_free(&r);
    return status;
}

void
th_new_user(struct th_server *s, const char *prefix, char token[128])
{
    static int seq;
    char email[128];

    snprintf(email, sizeof email, "%s%d-%d@example.com", prefix, getpid(),
             __atomic_fetch_add(&seq, 1, __ATOMIC_SEQ_CST));
    assert_int_equal(th_signup(s, email, "correct horse battery", prefix), 201);
    assert_int_equal(th_login(s, email, "correct horse battery", token, NULL),
                     201);
}

int
th_admin_add(struct th_server *s, const char *email, const char *role,
             const char *pw)
{
    char cmd[1024];
    FILE *p;

    snprintf(cmd, sizeof cmd,
             "'%s' user add --data '%s' --email '%s' "
             "--role '%s' >/dev/null 2>>'%s'",
             bin_path(), s->dir, email, role, s->log);
    p = popen(cmd, "w");
    if (!p)
        return -1;
    fprintf(p, "%s\n", pw);
    return pclose(p);
}

const char *
th_bearer(const char *token, char *buf, size_t len)
{
    snprintf(buf, len, "Authorization: Bearer %s", token);
    return buf;
}

int
th_upload(struct th_server *s, const char *path, const char *token,
          const char *file_path, const char *filename,
          const char *const *fields, struct th_resp *out)
{
    CURL *c = curl_easy_init();
    curl_mime *mime;
    curl_mimepart *part;
    struct curl_slist *h = NULL;
    char url[512], auth[200];
    int rc;

    if (!c)
        return -1;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    mime = curl_mime_init(c);
    for (int i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, fields[i]);
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    if (file_path) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filedata(part, file_path);
        if (filename)
            curl_mime_filename(part, filename);
    }
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    if (token)
        h = curl_slist_append(h, th_bearer(token, auth, sizeof auth));
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc = perform(c, out);
    curl_slist_free_all(h);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    return rc;
}

const char *
th_corpus(const char *rel, char *buf, size_t len)
{
    const char *root = getenv("STOCKROOM_CORPUS");

    snprintf(buf, len, "%s/%s", root && *root ? root : "../shared/corpus", rel);
    return buf;
}
