/* Stockroom — the SMTP stand-in, driven from C. */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "smtpstand.h"

int
ts_free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int
port_there(void *arg)
{
    struct ts_smtp *s = arg;
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

int
ts_smtp_start(struct ts_smtp *s, int tls, int port)
{
    char portfile[300], portarg[16], log[300];

    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/stockroom-smtp-XXXXXX");
        if (!mkdtemp(s->dir))
            return -1;
    }
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    unlink(portfile);
    snprintf(portarg, sizeof portarg, "%d", port);
    snprintf(log, sizeof log, "%s/stand.log", s->dir);
    s->tls = tls;
    s->port = 0;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("node", "node", "tests/services/smtp/stand.mjs", "--dir", s->dir,
               "--port", portarg, "--user", TS_SMTP_USER, "--password",
               TS_SMTP_PASSWORD, tls ? "--tls" : "--no-tls", (char *)NULL);
        _exit(127);
    }
    if (!th_poll(port_there, s, 30000) || s->pid == 0) {
        fprintf(stderr, "smtp stand did not start; see %s\n", log);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    snprintf(s->ca, sizeof s->ca, "%s/cert.pem", s->dir);
    return 0;
}

void
ts_smtp_stop(struct ts_smtp *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

void
ts_smtp_cleanup(struct ts_smtp *s)
{
    char cmd[300];

    ts_smtp_stop(s);
    if (s->dir[0] && !getenv("STOCKROOM_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "smtp stand: could not remove %s\n", s->dir);
    }
    s->dir[0] = '\0';
}

/* Files named prefix-N.json in the folder, in N order. */
static json_t *
files(struct ts_smtp *s, const char *prefix)
{
    json_t *by_n = json_array();
    DIR *d = opendir(s->dir);
    struct dirent *e;
    size_t plen = strlen(prefix);
    int max = 0;

    if (!d)
        return by_n;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);

        if (!strncmp(e->d_name, prefix, plen) && e->d_name[plen] == '-' &&
            n > 5 && !strcmp(e->d_name + n - 5, ".json")) {
            int k = atoi(e->d_name + plen + 1);

            if (k > max)
                max = k;
        }
    }
    closedir(d);
    for (int k = 1; k <= max; k++) {
        char path[400];
        json_t *j;

        snprintf(path, sizeof path, "%s/%s-%d.json", s->dir, prefix, k);
        j = json_load_file(path, 0, NULL);
        if (j)
            json_array_append_new(by_n, j);
    }
    return by_n;
}

json_t *
ts_smtp_mails(struct ts_smtp *s, const char *to)
{
    json_t *all = files(s, "mail"), *out = json_array(), *m;
    size_t i;

    json_array_foreach(all, i, m)
    {
        json_t *rcpt = json_object_get(json_object_get(m, "envelope"), "to");
        json_t *a;
        size_t k;
        int hit = !to;

        json_array_foreach(rcpt, k, a)
        {
            if (to && !strcasecmp(json_string_value(a), to))
                hit = 1;
        }
        if (hit)
            json_array_append(out, m);
    }
    json_decref(all);
    return out;
}

struct wait_arg {
    struct ts_smtp *s;
    const char *to;
    int n;
};

static int
enough(void *arg)
{
    struct wait_arg *w = arg;
    json_t *m = ts_smtp_mails(w->s, w->to);
    int ok = (int)json_array_size(m) >= w->n;

    json_decref(m);
    return ok;
}

json_t *
ts_smtp_wait(struct ts_smtp *s, const char *to, int n, int ms)
{
    struct wait_arg w = {s, to, n};
    json_t *m, *last;

    if (!th_poll(enough, &w, ms))
        return NULL;
    m = ts_smtp_mails(s, to);
    last = json_array_get(m, json_array_size(m) - 1);
    json_incref(last);
    json_decref(m);
    return last;
}

int
ts_smtp_refused(struct ts_smtp *s)
{
    json_t *r = files(s, "auth-refused");
    int n = (int)json_array_size(r);

    json_decref(r);
    return n;
}

int
ts_link_token(json_t *mail, const char *page, char *token, size_t len)
{
    const char *text = json_string_value(json_object_get(mail, "text"));
    char needle[64];
    const char *at;
    size_t k;

    snprintf(needle, sizeof needle, "/%s?token=", page);
    at = text ? strstr(text, needle) : NULL;
    if (!at)
        return -1;
    at += strlen(needle);
    k = strspn(at, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-_");
    if (k == 0 || k >= len)
        return -1;
    memcpy(token, at, k);
    token[k] = '\0';
    return 0;
}
