/* Stockroom — reading a test server's outbox. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "mailbox.h"

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = toupper(c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void
tm_qp_decode(char *s)
{
    char *w = s;

    for (char *r = s; *r;) {
        if (r[0] == '=' && r[1] == '\r' && r[2] == '\n') {
            r += 3;
        } else if (r[0] == '=' && r[1] == '\n') {
            r += 2;
        } else if (r[0] == '=' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
            *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* 1 if the message's To header names email (any case). */
static int
addressed_to(const char *msg, const char *email)
{
    const char *to = strstr(msg, "\r\nTo: ");
    const char *end = to ? strstr(to + 2, "\r\n") : NULL;
    char want[300];

    if (!to || !end)
        return 0;
    snprintf(want, sizeof want, "<%s>", email);
    for (const char *p = to; p + strlen(want) <= end; p++) {
        if (!strncasecmp(p, want, strlen(want)))
            return 1;
    }
    return 0;
}

/* Messages to email under dir/outbox: with page, the token of the newest
 * link to it (0, or -1 when none); without, how many there are. */
static int
scan(const char *dir, const char *email, const char *page, char *token,
     size_t len)
{
    char path[600], needle[64];
    long best = -1;
    int count = 0;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof path, "%s/outbox", dir);
    d = opendir(path);
    if (!d)
        return -1;
    snprintf(needle, sizeof needle, "/%s?token=", page ? page : "");
    while ((e = readdir(d))) {
        long id;
        char *msg, *at;
        size_t n = strlen(e->d_name);

        if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
            continue;
        id = strtol(e->d_name, NULL, 10);
        snprintf(path, sizeof path, "%s/outbox/%s", dir, e->d_name);
        msg = slurp(path);
        if (!msg)
            continue;
        if (addressed_to(msg, email)) {
            count++;
            tm_qp_decode(msg);
            at = page ? strstr(msg, needle) : NULL;
            if (at && id > best) {
                size_t k;

                at += strlen(needle);
                k = strspn(at, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789-_");
                if (k > 0 && k < len) {
                    memcpy(token, at, k);
                    token[k] = '\0';
                    best = id;
                }
            }
        }
        free(msg);
    }
    closedir(d);
    return page ? (best >= 0 ? 0 : -1) : count;
}

int
tm_outbox_count(const char *dir, const char *email)
{
    int n = scan(dir, email, NULL, NULL, 0);

    return n < 0 ? 0 : n;
}

struct wait_token {
    const char *dir, *email, *page;
    char *token;
    size_t len;
};

static int
token_there(void *arg)
{
    struct wait_token *w = arg;

    return scan(w->dir, w->email, w->page, w->token, w->len) == 0;
}

int
tm_outbox_token(const char *dir, const char *email, const char *page,
                char *token, size_t len, int ms)
{
    struct wait_token w = {dir, email, page, token, len};

    return th_poll(token_there, &w, ms) ? 0 : -1;
}

long
tm_verify_from_outbox(struct th_server *s, const char *email)
{
    char path[400], token[128], url[256], lower[256];
    struct th_resp r;
    struct stat st;
    long status;
    size_t i = 0;

    snprintf(path, sizeof path, "%s/outbox", s->dir);
    if (stat(path, &st) != 0)
        return 0;
    for (; email[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    lower[i] = '\0';
    if (tm_outbox_token(s->dir, lower, "verify.html", token, sizeof token,
                        10000) < 0)
        return -1;
    snprintf(url, sizeof url, "/api/v1/email-verifications/%s", token);
    if (th_req(s, "POST", url, NULL, NULL, 0, &r) < 0)
        return -1;
    status = r.status;
    th_resp_free(&r);
    return status;
}
