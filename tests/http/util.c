/* Stockroom — helpers for the HTTP tests beyond the harness. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "util.h"

long
tu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- raw sockets -------------------------------------------------------- */

int
tu_connect(int port)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
tu_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Wait up to ms for fd to be readable; 1 readable (or closed), 0 not. */
static int
readable(int fd, long deadline)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long left = deadline - tu_now_ms();

    if (left < 0)
        left = 0;
    return poll(&pfd, 1, (int)left) > 0;
}

size_t
tu_recv_all(int fd, char *buf, size_t cap, int ms, int *closed)
{
    long deadline = tu_now_ms() + ms;
    size_t got = 0;

    *closed = 0;
    while (got + 1 < cap && readable(fd, deadline)) {
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* 0 is an orderly close; ECONNRESET is a close too. */
            *closed = 1;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

/* Content-Length of a raw header block, or -1. */
static long
raw_content_length(const char *head, size_t head_len)
{
    const char *p = head;

    while (p < head + head_len) {
        const char *eol = strstr(p, "\r\n");

        if (!eol)
            break;
        if (!strncasecmp(p, "Content-Length:", 15))
            return strtol(p + 15, NULL, 10);
        p = eol + 2;
    }
    return -1;
}

size_t
tu_recv_response(int fd, char *buf, size_t cap, int ms)
{
    long deadline = tu_now_ms() + ms;
    size_t got = 0;

    buf[0] = '\0';
    while (got + 1 < cap && readable(fd, deadline)) {
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        char *end;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end + 4 - buf);
            long clen = raw_content_length(buf, head);
            int status = tu_raw_status(buf);

            if (status == 204 || status == 304)
                clen = 0;
            if (clen >= 0 && got >= head + (size_t)clen)
                break;
        }
    }
    return got;
}

int
tu_wait_closed(int fd, int ms)
{
    long deadline = tu_now_ms() + ms;
    char sink[4096];

    while (readable(fd, deadline)) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        /* An error page before the close is fine: keep reading. */
    }
    return 0;
}

int
tu_raw_status(const char *resp)
{
    int status = 0;

    if (strncmp(resp, "HTTP/1.", 7) != 0 ||
        sscanf(resp + 8, " %3d", &status) != 1)
        return 0;
    return status;
}

int
tu_raw_exchange(int port, const void *req, size_t len, char *out, size_t cap,
                int ms)
{
    int fd = tu_connect(port), status;
    size_t got;

    if (fd < 0)
        return -1;
    /* The server may answer and close before everything is sent (413):
     * a failed send is not a failed exchange. */
    if (tu_send(fd, req, len) == 0)
        shutdown(fd, SHUT_WR);
    got = tu_recv_response(fd, out, cap, ms);
    status = tu_raw_status(out);
    /* Nothing came: tell a close from a server that just sits there. */
    if (got == 0 && !tu_wait_closed(fd, 1))
        status = -2;
    close(fd);
    return status;
}

/* ---- server state ----------------------------------------------------- */

int
tu_healthy(struct th_server *s)
{
    struct th_resp r;
    int ok;

    if (th_req(s, "GET", "/healthz", NULL, NULL, 0, &r) < 0)
        return 0;
    ok = r.status == 200;
    th_resp_free(&r);
    return ok;
}

double
tu_metric(struct th_server *s, const char *series)
{
    struct th_resp r;
    size_t slen = strlen(series);
    double v = -1;

    const char *hdrs[] = {"Authorization: Bearer " TU_METRICS_TOKEN, NULL};

    if (th_req(s, "GET", "/metrics", hdrs, NULL, 0, &r) < 0)
        return -1;
    for (const char *line = r.body; r.status == 200 && line && *line;) {
        const char *eol = strchr(line, '\n');

        if (line[0] != '#' && !strncmp(line, series, slen) &&
            line[slen] == ' ') {
            v = strtod(line + slen + 1, NULL);
            break;
        }
        line = eol ? eol + 1 : NULL;
    }
    th_resp_free(&r);
    return v;
}

struct metric_wait {
    struct th_server *s;
    const char *series;
    double min, max;
};

static int
metric_in_range(void *arg)
{
    struct metric_wait *w = arg;
    double v = tu_metric(w->s, w->series);

    return v >= w->min && (w->max < 0 || v <= w->max);
}

int
tu_wait_metric(struct th_server *s, const char *series, double min, double max,
               int ms)
{
    struct metric_wait w = {s, series, min, max};

    return th_poll(metric_in_range, &w, ms);
}

void
tu_assert_security_headers(const struct th_resp *r, const char *what)
{
    char v[1024];

    if (!th_header(r, "Content-Security-Policy", v, sizeof v))
        fail_msg("%s: no Content-Security-Policy", what);
    if (!strstr(v, "default-src 'self'"))
        fail_msg("%s: CSP without default-src 'self': %s", what, v);
    if (!strstr(v, "frame-ancestors 'none'"))
        fail_msg("%s: CSP without frame-ancestors 'none': %s", what, v);
    if (!th_header(r, "X-Content-Type-Options", v, sizeof v) ||
        strcasecmp(v, "nosniff") != 0)
        fail_msg("%s: X-Content-Type-Options is not nosniff", what);
    if (!th_header(r, "Referrer-Policy", v, sizeof v) || !v[0])
        fail_msg("%s: no Referrer-Policy", what);
}

/* ---- running the binary ----------------------------------------------- */

const char *
tu_bin(void)
{
    const char *b = getenv("STOCKROOM_BIN");

    return b && *b ? b : "build/stockroom";
}

int
tu_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/stockroom-test-XXXXXX");
    return mkdtemp(buf) ? 0 : -1;
}

void
tu_rmtree(const char *dir)
{
    char cmd[600];

    if (!dir[0] || getenv("STOCKROOM_KEEP"))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "util: could not remove %s\n", dir);
}

int
tu_write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (!f)
        return -1;
    if (fwrite(text, 1, len, f) != len)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

int
tu_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = NULL;
    char buf[65536];
    size_t n;
    int rc = -1;

    if (!in)
        return -1;
    out = fopen(to, "wb");
    if (!out)
        goto out;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n)
            goto out;
    }
    rc = ferror(in) ? -1 : 0;
out:
    if (out && fclose(out) != 0)
        rc = -1;
    fclose(in);
    return rc;
}

static void
slurp(const char *path, char *buf, size_t len)
{
    FILE *f;
    size_t n = 0;

    if (!buf || !len)
        return;
    f = fopen(path, "rb");
    if (f) {
        n = fread(buf, 1, len - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

struct child {
    pid_t pid;
    int status;
};

static int
child_done(void *arg)
{
    struct child *c = arg;

    return waitpid(c->pid, &c->status, WNOHANG) == c->pid;
}

int
tu_run(const char *const *argv, const char *stdin_text, char *out,
       size_t out_len, char *err, size_t err_len, int ms)
{
    char dir[64], in_path[100], out_path[100], err_path[100];
    const char *args[64];
    struct child c = {0};
    int n = 0, rc;

    if (tu_tmpdir(dir, sizeof dir) < 0)
        return -1;
    snprintf(in_path, sizeof in_path, "%s/stdin", dir);
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    if (tu_write_file(in_path, stdin_text ? stdin_text : "",
                      stdin_text ? strlen(stdin_text) : 0) < 0)
        return -1;
    args[n++] = tu_bin();
    for (int i = 1; argv[i] && n < 63; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    c.pid = fork();
    if (c.pid < 0)
        return -1;
    if (c.pid == 0) {
        int fi = open(in_path, O_RDONLY);
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fi < 0 || fo < 0 || fe < 0)
            _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    if (!th_poll(child_done, &c, ms)) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
        rc = -1;
    } else if (WIFEXITED(c.status)) {
        rc = WEXITSTATUS(c.status);
    } else {
        rc = 128 + WTERMSIG(c.status);
    }
    slurp(out_path, out, out_len);
    slurp(err_path, err, err_len);
    tu_rmtree(dir);
    return rc;
}

int
tu_ledger_verify(const char *dir)
{
    const char *argv[] = {"stockroom", "ledger", "verify", "--data", dir, NULL};

    return tu_run(argv, NULL, NULL, 0, NULL, 0, 60000);
}

int
tu_wait_exit(pid_t pid, int ms)
{
    struct child c = {pid, 0};

    if (!th_poll(child_done, &c, ms))
        return -1;
    if (WIFEXITED(c.status))
        return WEXITSTATUS(c.status);
    return 128 + WTERMSIG(c.status);
}

const char *
tu_log_tail(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    long size;
    size_t n = 0;

    buf[0] = '\0';
    if (!f)
        return buf;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
        fseek(f, size > (long)len - 1 ? size - (long)len + 1 : 0, SEEK_SET);
        n = fread(buf, 1, len - 1, f);
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* ---- SQLite, to look at what the server stored ---------------------- */

static sqlite3 *
sq_open(const char *path)
{
    sqlite3 *db = NULL;

    /* Never create: a missing file is an error the test must see. */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    /* The running server writes too (its mail sender, session times):
     * wait for its lock like any other writer. */
    sqlite3_busy_timeout(db, 10000);
    return db;
}

int
tu_sql_exec(const char *path, const char *sql, char *err, size_t len)
{
    sqlite3 *db = sq_open(path);
    char *msg = NULL;
    int rc;

    if (!db) {
        snprintf(err, len, "cannot open %s", path);
        return -1;
    }
    rc = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK ? 0 : -1;
    snprintf(err, len, "%s", msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

static sqlite3_stmt *
sq_row(const char *path, const char *sql, sqlite3 **db)
{
    sqlite3_stmt *st = NULL;

    *db = sq_open(path);
    if (!*db)
        return NULL;
    if (sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        sqlite3_close(*db);
        *db = NULL;
        return NULL;
    }
    return st;
}

long long
tu_sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st = sq_row(path, sql, &db);
    long long v;

    if (!st)
        return -1;
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

const char *
tu_sql_text(const char *path, const char *sql, char *buf, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st = sq_row(path, sql, &db);
    const unsigned char *t;

    if (!st)
        return NULL;
    t = sqlite3_column_text(st, 0);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

/* ---- misc ------------------------------------------------------------- */

const char *
tu_email(const char *prefix, char *buf, size_t len)
{
    static int seq;

    snprintf(buf, len, "%s-%d-%d@example.com", prefix, (int)getpid(), seq++);
    return buf;
}

char *
tu_json(const char *fmt, ...)
{
    va_list ap;
    json_t *j;
    char *text;

    va_start(ap, fmt);
    j = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    if (!j)
        return NULL;
    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}
