/* Stockroom — S3 client: canonical URLs, libcurl's SigV4, retries. */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "log.h"
#include "s3.h"

#define CONNECT_MS 2000
#define STALL_S 5            /* a transfer that moves nothing this long ends */
#define RETRY_BUDGET_MS 8000 /* no new attempt after this much time */
#define ATTEMPTS 4
#define ERRBODY_MAX 16384

/* One handle per thread that called us, all freed by s3_free. */
struct handle {
    CURL *curl;
    struct handle *next;
};

struct s3 {
    char base[600];   /* scheme://host[:port][/bucket] */
    char host[300];   /* for the bucket's own HEAD */
    char prefix[256]; /* percent-encoded key prefix */
    char raw_prefix[128];
    char sigv4[80];
    char userpwd[512];
    char token_hdr[2200];
    pthread_key_t tls;
    pthread_mutex_t lock;
    struct handle *handles;
    int unreachable; /* atomic: every thread's requests set it */
};

struct membuf {
    char *p;
    size_t len, cap;
};

/* One request: what goes out and what came back. */
struct call {
    const char *method;
    const char *key;   /* NULL: the bucket itself */
    const char *query; /* canonical: sorted, every name with '=' */
    const char *ctype;
    /* body: from fd or from memory */
    int in_fd;
    const char *in_mem;
    uint64_t in_size, in_off;
    const char *sha256_hex;
    const unsigned char *md5;
    /* reply */
    int out_fd; /* a 2xx body goes here when >= 0, else into body */
    uint64_t out_len;
    struct membuf body;
    long status;
    char etag[80];
    uint64_t clen;
    int quick; /* one short attempt: a health probe */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* RFC 3986 unreserved characters stay, and '/' when it separates; the
 * rest is %XX, as SigV4's canonical URI wants. */
static void
encode_path(const char *in, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || strchr("-._~/", *p);

        if (o + 4 >= len)
            break;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

int
s3_new(const struct s3_conf *conf, struct s3 **out)
{
    struct s3 *s = calloc(1, sizeof *s);
    char host[300];
    const char *ep = conf->endpoint;
    const char *scheme_end;

    if (!s)
        return -1;
    pthread_once(&global_once, global_init);
    if (!ep || !*ep) {
        snprintf(host, sizeof host, "https://s3.%s.amazonaws.com",
                 conf->region);
        ep = host;
    }
    /* Strip one trailing slash so keys join with exactly one. */
    snprintf(s->host, sizeof s->host, "%.*s",
             (int)(strlen(ep) - (ep[strlen(ep) - 1] == '/')), ep);
    scheme_end = strstr(s->host, "://");
    if (conf->path_style || !scheme_end)
        snprintf(s->base, sizeof s->base, "%s/%s", s->host, conf->bucket);
    else
        snprintf(s->base, sizeof s->base, "%.*s%s.%s",
                 (int)(scheme_end + 3 - s->host), s->host, conf->bucket,
                 scheme_end + 3);
    snprintf(s->raw_prefix, sizeof s->raw_prefix, "%s",
             conf->prefix ? conf->prefix : "");
    encode_path(s->raw_prefix, s->prefix, sizeof s->prefix);
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", conf->region);
    snprintf(s->userpwd, sizeof s->userpwd, "%s:%s", conf->access_key,
             conf->secret_key);
    if (conf->session_token && *conf->session_token)
        snprintf(s->token_hdr, sizeof s->token_hdr, "x-amz-security-token: %s",
                 conf->session_token);
    if (pthread_key_create(&s->tls, NULL) != 0) {
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void
s3_free(struct s3 *s)
{
    if (!s)
        return;
    while (s->handles) {
        struct handle *h = s->handles;

        s->handles = h->next;
        curl_easy_cleanup(h->curl);
        free(h);
    }
    pthread_key_delete(s->tls);
    pthread_mutex_destroy(&s->lock);
    sodium_memzero(s->userpwd, sizeof s->userpwd);
    free(s);
}

int
s3_reachable(const struct s3 *s)
{
    return !__atomic_load_n(&s->unreachable, __ATOMIC_RELAXED);
}

static CURL *
thread_handle(struct s3 *s)
{
    struct handle *h = pthread_getspecific(s->tls);

    if (h) {
        curl_easy_reset(h->curl);
        return h->curl;
    }
    h = calloc(1, sizeof *h);
    if (!h || !(h->curl = curl_easy_init())) {
        free(h);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    h->next = s->handles;
    s->handles = h;
    pthread_mutex_unlock(&s->lock);
    pthread_setspecific(s->tls, h);
    return h->curl;
}

static size_t
read_body(char *dst, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    uint64_t left = c->in_size - c->in_off;
    size_t want = size * n < left ? size * n : (size_t)left;

    if (want == 0)
        return 0;
    if (c->in_mem) {
        memcpy(dst, c->in_mem + c->in_off, want);
    } else {
        ssize_t got;

        do
            got = pread(c->in_fd, dst, want, (off_t)c->in_off);
        while (got < 0 && errno == EINTR);
        if (got <= 0)
            return CURL_READFUNC_ABORT;
        want = (size_t)got;
    }
    c->in_off += want;
    return want;
}

static int
mem_add(struct membuf *m, const char *p, size_t n)
{
    if (m->len + n + 1 > m->cap) {
        size_t cap = (m->len + n + 1) * 2;
        char *q = realloc(m->p, cap);

        if (!q)
            return -1;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    m->p[m->len] = '\0';
    return 0;
}

static size_t
write_body(char *p, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    size_t len = size * n;

    if (c->out_fd >= 0 && c->status >= 200 && c->status < 300) {
        size_t done = 0;

        while (done < len) {
            ssize_t w = write(c->out_fd, p + done, len - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return 0;
            done += (size_t)w;
        }
        c->out_len += len;
        return len;
    }
    if (c->out_fd >= 0 && c->body.len + len > ERRBODY_MAX)
        return len; /* an error body: its start says enough */
    return mem_add(&c->body, p, len) < 0 ? 0 : len;
}

static size_t
read_header(char *p, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    size_t len = size * n;

    if (len > 9 && !strncmp(p, "HTTP/", 5)) {
        /* Each response (100 Continue, then the final) starts anew. */
        const char *sp = memchr(p, ' ', len);

        c->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        c->etag[0] = '\0';
    } else if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
        size_t i = 5, o = 0;

        while (i < len && o + 1 < sizeof c->etag) {
            if (p[i] != ' ' && p[i] != '"' && p[i] != '\r' && p[i] != '\n')
                c->etag[o++] = (char)tolower((unsigned char)p[i]);
            i++;
        }
        c->etag[o] = '\0';
    } else if (len > 15 && !strncasecmp(p, "Content-Length:", 15)) {
        c->clen = strtoull(p + 15, NULL, 10);
    }
    return len;
}

/* The text of <tag>...</tag> in xml after from, into out; pointer past
 * it, or NULL. */
static const char *
xml_text(const char *xml, const char *tag, char *out, size_t len)
{
    char open[64], close[64];
    const char *a, *b;

    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    a = xml ? strstr(xml, open) : NULL;
    if (!a)
        return NULL;
    a += strlen(open);
    b = strstr(a, close);
    if (!b)
        return NULL;
    snprintf(out, len, "%.*s", (int)(b - a), a);
    return b + strlen(close);
}

static void
hex_of(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Full jitter over an exponential step: spreads the retries of many
 * threads hitting the same outage. */
static void
backoff(int attempt)
{
    long cap = 100L << attempt;
    long ms = cap / 2 + (long)randombytes_uniform((uint32_t)(cap / 2 + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int
transient_curl(CURLcode e)
{
    switch (e) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int
attempt(struct s3 *s, CURL *h, struct call *c, const char *url, CURLcode *cres)
{
    struct curl_slist *hdrs = NULL;
    char line[300], md5b64[40];
    long limit_s;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_S);
    /* A deadline that grows with the body: 256 KiB/s is slow for a
     * store next door and still finishes a 50 MiB upload. */
    limit_s = c->quick ? 2 : 15 + (long)(c->in_size / (256 * 1024));
    curl_easy_setopt(h, CURLOPT_TIMEOUT, limit_s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    /* libcurl 7.88 does not send this itself, and S3 wants it signed. */
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", c->sha256_hex);
    hdrs = curl_slist_append(hdrs, line);
    if (s->token_hdr[0])
        hdrs = curl_slist_append(hdrs, s->token_hdr);
    if (!strcmp(c->method, "PUT")) {
        EVP_EncodeBlock((unsigned char *)md5b64, c->md5, 16);
        snprintf(line, sizeof line, "Content-MD5: %s", md5b64);
        hdrs = curl_slist_append(hdrs, line);
        snprintf(line, sizeof line, "Content-Type: %s",
                 c->ctype ? c->ctype : "application/octet-stream");
        hdrs = curl_slist_append(hdrs, line);
        c->in_off = 0;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->in_size);
    } else if (!strcmp(c->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    c->status = 0;
    c->etag[0] = '\0';
    c->clen = 0;
    c->body.len = 0;
    c->out_len = 0;
    if (c->out_fd >= 0 &&
        (ftruncate(c->out_fd, 0) < 0 || lseek(c->out_fd, 0, SEEK_SET) < 0)) {
        curl_slist_free_all(hdrs);
        return -1;
    }
    *cres = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    return 0;
}

/* Run c with retries; an S3_ code, with a line in err unless S3_OK. */
static int
perform(struct s3 *s, struct call *c, char err[S3_ERR_LEN])
{
    static const char empty_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CURL *h = thread_handle(s);
    char url[2000], path[800], code[64] = "";
    long start = now_ms();
    CURLcode cres = CURLE_OK;
    int rc = S3_EUNAVAIL;

    if (!h) {
        snprintf(err, S3_ERR_LEN, "out of memory");
        return S3_EFAIL;
    }
    if (!c->sha256_hex)
        c->sha256_hex = empty_sha;
    encode_path(c->key ? c->key : "", path, sizeof path);
    snprintf(url, sizeof url, "%s/%s%s%s%s", s->base, c->key ? s->prefix : "",
             path, c->query ? "?" : "", c->query ? c->query : "");
    for (int i = 0; i < (c->quick ? 1 : ATTEMPTS); i++) {
        if (i > 0) {
            if (now_ms() - start > RETRY_BUDGET_MS)
                break;
            backoff(i + (strcmp(code, "SlowDown") ? 0 : 2));
        }
        code[0] = '\0';
        if (attempt(s, h, c, url, &cres) < 0) {
            snprintf(err, S3_ERR_LEN, "cannot write the download: %s",
                     strerror(errno));
            return S3_EFAIL;
        }
        xml_text(c->body.p, "Code", code, sizeof code);
        if (cres != CURLE_OK) {
            snprintf(err, S3_ERR_LEN, "%s %s: %s", c->method,
                     c->key ? c->key : "bucket", curl_easy_strerror(cres));
            if (!transient_curl(cres)) {
                rc = S3_EFAIL;
                break;
            }
            continue;
        }
        if (c->status >= 200 && c->status < 300) {
            rc = S3_OK;
            break;
        }
        snprintf(err, S3_ERR_LEN, "%s %s: HTTP %ld %s", c->method,
                 c->key ? c->key : "bucket", c->status, code);
        if (c->status >= 500 || !strcmp(code, "SlowDown"))
            continue;
        if (c->status == 404)
            rc = !strcmp(code, "NoSuchBucket") || !c->key ? S3_ENOBUCKET
                                                          : S3_ENOTFOUND;
        else if (c->status == 403)
            rc = S3_EDENIED;
        else
            rc = S3_EFAIL;
        break;
    }
    __atomic_store_n(&s->unreachable, rc == S3_EUNAVAIL, __ATOMIC_RELAXED);
    if (rc == S3_OK && c->out_fd >= 0 && c->clen && c->out_len != c->clen) {
        snprintf(err, S3_ERR_LEN, "GET %s: %llu of %llu bytes", c->key,
                 (unsigned long long)c->out_len, (unsigned long long)c->clen);
        rc = S3_EUNAVAIL;
    }
    return rc;
}

static void
call_init(struct call *c, const char *method, const char *key)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->key = key;
    c->in_fd = -1;
    c->out_fd = -1;
}

int
s3_head_bucket(struct s3 *s, char err[S3_ERR_LEN])
{
    struct call c;
    int rc;

    call_init(&c, "HEAD", NULL);
    rc = perform(s, &c, err);
    free(c.body.p);
    return rc;
}

int
s3_ping(struct s3 *s)
{
    char err[S3_ERR_LEN];
    struct call c;
    int rc;

    call_init(&c, "HEAD", NULL);
    c.quick = 1;
    rc = perform(s, &c, err);
    free(c.body.p);
    return rc;
}

static int
check_etag(const struct call *c, const unsigned char md5[16],
           char err[S3_ERR_LEN])
{
    char hex[33];

    hex_of(md5, 16, hex);
    /* Stores that encrypt with KMS answer another kind of ETag: only a
     * 32-digit one is an MD5 to compare. */
    if (strlen(c->etag) == 32 && strcmp(c->etag, hex) != 0) {
        snprintf(err, S3_ERR_LEN, "PUT %s: ETag %s, expected %s", c->key,
                 c->etag, hex);
        return S3_EFAIL;
    }
    return S3_OK;
}

int
s3_put_fd(struct s3 *s, const char *key, int fd, uint64_t size,
          const unsigned char md5[16], const char *sha256_hex,
          const char *ctype, char err[S3_ERR_LEN])
{
    struct call c;
    int rc;

    call_init(&c, "PUT", key);
    c.in_fd = fd;
    c.in_size = size;
    c.md5 = md5;
    c.sha256_hex = sha256_hex;
    c.ctype = ctype;
    rc = perform(s, &c, err);
    if (rc == S3_OK)
        rc = check_etag(&c, md5, err);
    free(c.body.p);
    return rc;
}

int
s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len,
           const char *ctype, char err[S3_ERR_LEN])
{
    unsigned char md5[EVP_MAX_MD_SIZE], sha[EVP_MAX_MD_SIZE];
    char sha_hex[65];
    unsigned int n = 0;
    struct call c;
    int rc;

    if (EVP_Digest(data, len, md5, &n, EVP_md5(), NULL) != 1 ||
        EVP_Digest(data, len, sha, &n, EVP_sha256(), NULL) != 1) {
        snprintf(err, S3_ERR_LEN, "digest failed");
        return S3_EFAIL;
    }
    hex_of(sha, 32, sha_hex);
    call_init(&c, "PUT", key);
    c.in_mem = data;
    c.in_size = len;
    c.md5 = md5;
    c.sha256_hex = sha_hex;
    c.ctype = ctype;
    rc = perform(s, &c, err);
    if (rc == S3_OK)
        rc = check_etag(&c, md5, err);
    free(c.body.p);
    return rc;
}

int
s3_get_fd(struct s3 *s, const char *key, int fd, uint64_t *size,
          char err[S3_ERR_LEN])
{
    struct call c;
    int rc;

    call_init(&c, "GET", key);
    c.out_fd = fd;
    rc = perform(s, &c, err);
    if (rc == S3_OK)
        *size = c.out_len;
    free(c.body.p);
    return rc;
}

int
s3_head(struct s3 *s, const char *key, uint64_t *size, char etag[80],
        char err[S3_ERR_LEN])
{
    struct call c;
    int rc;

    call_init(&c, "HEAD", key);
    rc = perform(s, &c, err);
    if (rc == S3_OK && size)
        *size = c.clen;
    if (rc == S3_OK && etag)
        snprintf(etag, 80, "%s", c.etag);
    free(c.body.p);
    return rc;
}

int
s3_delete(struct s3 *s, const char *key, char err[S3_ERR_LEN])
{
    struct call c;
    int rc;

    call_init(&c, "DELETE", key);
    rc = perform(s, &c, err);
    free(c.body.p);
    return rc == S3_ENOTFOUND ? S3_OK : rc;
}

/* "2026-12-08T00:12:34.000Z" as unix seconds; 0 when unreadable. */
static int64_t
iso_time(const char *s)
{
    struct tm tm = {0};

    if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

/* Query values are encoded like path segments, '/' included. */
static void
encode_query(const char *in, char *out, size_t len)
{
    char tmp[800];
    size_t o = 0;

    encode_path(in, tmp, sizeof tmp);
    for (const char *p = tmp; *p && o + 4 < len; p++) {
        if (*p == '/') {
            memcpy(out + o, "%2F", 3);
            o += 3;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

int
s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *arg,
        char err[S3_ERR_LEN])
{
    char token[1024] = "", etoken[2048], eprefix[1024], full[600];
    char query[3200];
    size_t plen = strlen(s->raw_prefix);
    int rc;

    snprintf(full, sizeof full, "%s%s", s->raw_prefix, prefix);
    encode_query(full, eprefix, sizeof eprefix);
    do {
        struct call c;
        const char *p;
        char truncated[8] = "";

        encode_query(token, etoken, sizeof etoken);
        /* Parameters sorted by name, each with '=': libcurl signs the
         * query as given. */
        snprintf(query, sizeof query, "%s%s%slist-type=2&prefix=%s",
                 token[0] ? "continuation-token=" : "", etoken,
                 token[0] ? "&" : "", eprefix);
        call_init(&c, "GET", NULL);
        c.query = query;
        rc = perform(s, &c, err);
        p = c.body.p;
        token[0] = '\0';
        while (rc == S3_OK && p && (p = strstr(p, "<Contents>"))) {
            char key[1100], size[32] = "0", etag[100] = "", when[40] = "";
            const char *end = strstr(p, "</Contents>");
            char item[4096];

            if (!end)
                break;
            snprintf(item, sizeof item, "%.*s", (int)(end - p), p);
            xml_text(item, "Key", key, sizeof key);
            xml_text(item, "Size", size, sizeof size);
            xml_text(item, "ETag", etag, sizeof etag);
            xml_text(item, "LastModified", when, sizeof when);
            p = end;
            if (strlen(key) < plen)
                continue;
            {
                char clean[80];
                size_t o = 0;

                /* ETags come quoted, escaped in XML as &quot;. */
                for (const char *q = etag; *q && o + 1 < sizeof clean; q++) {
                    if (!strncmp(q, "&quot;", 6)) {
                        q += 5;
                        continue;
                    }
                    if (*q != '"')
                        clean[o++] = *q;
                }
                clean[o] = '\0';
                rc = fn(key + plen, strtoull(size, NULL, 10), clean,
                        iso_time(when), arg);
            }
        }
        if (rc == S3_OK) {
            xml_text(c.body.p, "IsTruncated", truncated, sizeof truncated);
            if (!strcmp(truncated, "true"))
                xml_text(c.body.p, "NextContinuationToken", token,
                         sizeof token);
        }
        free(c.body.p);
    } while (rc == S3_OK && token[0]);
    return rc;
}
