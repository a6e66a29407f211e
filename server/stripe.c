/* Stockroom — Stripe's HTTP API over libcurl, with retries in a deadline. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stripe.h"

#define ATTEMPT_MAX_MS 4000 /* one try; a slow Stripe leaves time to retry */
#define BACKOFF_FIRST_MS 200

static int
form_reserve(struct stripe_form *f, size_t more)
{
    char *p;
    size_t cap;

    if (f->broken || f->len + more + 1 > STRIPE_FORM_MAX) {
        f->broken = 1;
        return -1;
    }
    if (f->len + more + 1 <= f->cap)
        return 0;
    cap = f->cap ? f->cap : 512;
    while (cap < f->len + more + 1)
        cap *= 2;
    p = realloc(f->buf, cap);
    if (!p) {
        f->broken = 1;
        return -1;
    }
    f->buf = p;
    f->cap = cap;
    return 0;
}

/* application/x-www-form-urlencoded, as Stripe reads it: keep only the
 * unreserved characters, encode the rest (brackets too). */
static void
form_put(struct stripe_form *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);

    if (form_reserve(f, 3 * n) < 0)
        return;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
            ch == '~') {
            f->buf[f->len++] = (char)ch;
        } else {
            f->buf[f->len++] = '%';
            f->buf[f->len++] = hex[ch >> 4];
            f->buf[f->len++] = hex[ch & 15];
        }
    }
    f->buf[f->len] = '\0';
}

void
stripe_form_add(struct stripe_form *f, const char *key, const char *value)
{
    if (f->len && form_reserve(f, 1) == 0)
        f->buf[f->len++] = '&';
    form_put(f, key);
    if (form_reserve(f, 1) == 0)
        f->buf[f->len++] = '=';
    form_put(f, value ? value : "");
}

void
stripe_form_add_i64(struct stripe_form *f, const char *key, long long v)
{
    char num[24];

    snprintf(num, sizeof num, "%lld", v);
    stripe_form_add(f, key, num);
}

void
stripe_form_release(struct stripe_form *f)
{
    if (!f)
        return;
    free(f->buf);
    memset(f, 0, sizeof *f);
}

struct reply {
    char *buf;
    size_t len;
    int toobig;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct reply *r = ud;
    size_t n = size * nmemb;
    char *nb;

    if (r->len + n > STRIPE_REPLY_MAX) {
        r->toobig = 1;
        return 0;
    }
    nb = realloc(r->buf, r->len + n + 1);
    if (!nb)
        return 0;
    r->buf = nb;
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* One try: the curl result, with the status and body in *status and *r. */
static CURLcode
attempt(const struct stripe_conf *c, const char *method, const char *path,
        const struct stripe_form *form, const char *idem_key, long timeout_ms,
        long *status, struct reply *r)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hd = NULL;
    char url[1024], line[512];
    CURLcode cc = CURLE_OUT_OF_MEMORY;

    if (!h)
        return cc;
    snprintf(url, sizeof url, "%s%s", c->api_url, path);
    snprintf(line, sizeof line, "Authorization: Bearer %s", c->secret_key);
    hd = curl_slist_append(hd, line);
    hd = curl_slist_append(hd, "Stripe-Version: " STRIPE_API_VERSION);
    if (idem_key) {
        snprintf(line, sizeof line, "Idempotency-Key: %s", idem_key);
        hd = curl_slist_append(hd, line);
    }
    if (!strcmp(method, "POST")) {
        hd = curl_slist_append(
            hd, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                         form && form->buf ? form->buf : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
                         (long)(form && form->buf ? form->len : 0));
    }
    memset(line, 0, sizeof line); /* it held the key */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < 2000 ? timeout_ms : 2000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Stockroom");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return cc;
}

/* Stripe's {"error": {"message", "code"}} into err. */
static void
error_text(const struct reply *r, long status, char err[STRIPE_ERR_LEN])
{
    json_t *j = r->buf ? json_loadb(r->buf, r->len, 0, NULL) : NULL;
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));

    snprintf(err, STRIPE_ERR_LEN, "Stripe answered %ld%s%s%s%s", status,
             code ? " " : "", code ? code : "", msg ? ": " : "",
             msg ? msg : "");
    json_decref(j);
}

int
stripe_call(const struct stripe_conf *c, const char *method, const char *path,
            const struct stripe_form *form, const char *idem_key, json_t **out,
            long *http_status, char err[STRIPE_ERR_LEN])
{
    int deadline = c->deadline_ms > 0 ? c->deadline_ms : STRIPE_DEADLINE_MS;
    long long end = now_ms() + deadline, backoff = BACKOFF_FIRST_MS;
    struct reply r = {NULL, 0, 0};
    long status = 0;
    int rc = STRIPE_EDOWN;

    if (form && form->broken) {
        snprintf(err, STRIPE_ERR_LEN, "request body too large");
        return STRIPE_EREFUSED;
    }
    for (;;) {
        long long left = end - now_ms();
        CURLcode cc;

        free(r.buf);
        memset(&r, 0, sizeof r);
        status = 0;
        cc = attempt(c, method, path, form, idem_key,
                     left < ATTEMPT_MAX_MS ? (long)left : ATTEMPT_MAX_MS,
                     &status, &r);
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            json_t *j = json_loadb(r.buf ? r.buf : "", r.len, 0, NULL);

            if (!json_is_object(j)) {
                json_decref(j);
                snprintf(err, STRIPE_ERR_LEN, "Stripe's reply is not JSON");
                rc = STRIPE_EBADREPLY;
                goto out;
            }
            *out = j;
            rc = STRIPE_OK;
            goto out;
        }
        /* 409: another request with this key is still running there. */
        if (cc == CURLE_OK && status >= 400 && status < 500 && status != 429 &&
            status != 409) {
            error_text(&r, status, err);
            rc = STRIPE_EREFUSED;
            goto out;
        }
        if (cc != CURLE_OK)
            snprintf(err, STRIPE_ERR_LEN, "Stripe unreachable: %s",
                     curl_easy_strerror(cc));
        else
            error_text(&r, status, err);
        if (now_ms() + backoff >= end)
            goto out;
        sleep_ms(backoff);
        backoff *= 2;
    }
out:
    if (http_status)
        *http_status = status;
    free(r.buf);
    return rc;
}
