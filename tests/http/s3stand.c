/* Stockroom — start, steer and stop the S3 stand-in for HTTP tests. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "s3stand.h"

#define STAND_JS "tests/services/s3/stand.js"

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
s3s_start(struct s3s *s)
{
    char portfile[320], dir[300];
    struct timespec tick = {0, 50 * 1000 * 1000};
    long deadline = now_ms() + 20000;

    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/stockroom-s3-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(portfile, sizeof portfile, "%s/ports", s->dir);
    snprintf(dir, sizeof dir, "%s/objects", s->dir);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        char log[320];
        FILE *f;

        snprintf(log, sizeof log, "%s/stand.log", s->dir);
        f = fopen(log, "w");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        execlp("node", "node", STAND_JS, "--dir", dir, "--port-file", portfile,
               "--access-key", S3S_ACCESS_KEY, "--secret", S3S_SECRET,
               (char *)NULL);
        _exit(127);
    }
    while (now_ms() < deadline) {
        FILE *f = fopen(portfile, "r");
        int st;

        if (f) {
            int ok = fscanf(f, "%d %d", &s->port, &s->control) == 2;

            fclose(f);
            if (ok) {
                snprintf(s->endpoint, sizeof s->endpoint, "http://127.0.0.1:%d",
                         s->port);
                return 0;
            }
        }
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "s3stand: the stand-in did not start; see %s/stand.log\n",
            s->dir);
    s3s_stop(s);
    return -1;
}

void
s3s_stop(struct s3s *s)
{
    char cmd[320];

    if (s->pid > 0) {
        long deadline = now_ms() + 5000;
        struct timespec tick = {0, 20 * 1000 * 1000};

        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, NULL, WNOHANG) != s->pid) {
            if (now_ms() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, NULL, 0);
                break;
            }
            nanosleep(&tick, NULL);
        }
        s->pid = 0;
    }
    if (s->dir[0] && !getenv("STOCKROOM_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "s3stand: could not remove %s\n", s->dir);
    }
    s->dir[0] = '\0';
}

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), len = size * n;

    if (have + len < 512) {
        memcpy(buf + have, p, len);
        buf[have + len] = '\0';
    }
    return len;
}

/* One control request; the status, or -1. */
static long
control(struct s3s *s, const char *method, const char *path, char body[512])
{
    CURL *c = curl_easy_init();
    char url[600];
    long status = -1;

    body[0] = '\0';
    if (!c)
        return -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->control, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

int
s3s_bucket(struct s3s *s, const char *name)
{
    char path[128], body[512];

    snprintf(path, sizeof path, "/bucket?name=%s", name);
    return control(s, "POST", path, body) == 200 ? 0 : -1;
}

int
s3s_fault(struct s3s *s, const char *query)
{
    char path[400], body[512];

    snprintf(path, sizeof path, "/fault?%s", query);
    return control(s, "POST", path, body) == 200 ? 0 : -1;
}

long
s3s_stat(struct s3s *s, const char *name)
{
    char body[512], needle[64];
    const char *p;

    if (control(s, "GET", "/stats", body) != 200)
        return -1;
    snprintf(needle, sizeof needle, "\"%s\":", name);
    p = strstr(body, needle);
    return p ? strtol(p + strlen(needle), NULL, 10) : -1;
}

static struct s3s shared;
static int shared_state; /* 0 not tried, 1 running, -1 failed */

static void
stop_shared(void)
{
    s3s_stop(&shared);
}

struct s3s *
s3s_shared(void)
{
    if (shared_state == 0) {
        shared_state = s3s_start(&shared) == 0 ? 1 : -1;
        if (shared_state == 1)
            atexit(stop_shared);
    }
    return shared_state == 1 ? &shared : NULL;
}

int
s3s_use(struct s3s *s, const char *data_dir)
{
    char bucket[64];
    unsigned h = 5381;

    if (!s)
        return -1;
    for (const char *p = data_dir; *p; p++)
        h = h * 33 + (unsigned char)*p;
    snprintf(bucket, sizeof bucket, "sr-%d-%08x", (int)getpid(), h);
    if (s3s_bucket(s, bucket) < 0)
        return -1;
    setenv("STOCKROOM_BLOB_STORE", "s3", 1);
    setenv("STOCKROOM_S3_ENDPOINT", s->endpoint, 1);
    setenv("STOCKROOM_S3_BUCKET", bucket, 1);
    setenv("STOCKROOM_S3_PATH_STYLE", "1", 1);
    setenv("STOCKROOM_S3_ACCESS_KEY_ID", S3S_ACCESS_KEY, 1);
    setenv("STOCKROOM_S3_SECRET_ACCESS_KEY", S3S_SECRET, 1);
    return 0;
}
