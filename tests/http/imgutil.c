/* Stockroom — helpers for the image tests (see imgutil.h). */
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "imgutil.h"
#include "kit.h"

#define BOUNDARY "stockroom-test-boundary-7f3a9c1e"

/* ---- files ------------------------------------------------------------ */

void *
iu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
out:
    fclose(f);
    return buf;
}

int
iu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (!f)
        return -1;
    rc = len && fwrite(data, 1, len, f) != len ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

int
iu_unique_copy(const char *src, const char *dst, const char *tag)
{
    size_t len, tlen = strlen(tag);
    char *buf = iu_read_file(src, &len);
    char *grown;
    int rc;

    if (!buf)
        return -1;
    grown = realloc(buf, len + tlen + 2);
    if (!grown) {
        free(buf);
        return -1;
    }
    buf = grown;
    buf[len] = '\n';
    memcpy(buf + len + 1, tag, tlen);
    rc = iu_write_file(dst, buf, len + tlen + 1);
    free(buf);
    return rc;
}

int
iu_count_files(const char *dir, const char *substr)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[2048];
        struct stat st;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int k = iu_count_files(path, substr);

            n += k > 0 ? k : 0;
        } else if (strstr(e->d_name, substr)) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* ---- PNG ----------------------------------------------------------- */

void
iu_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

uint32_t
iu_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

/* ---- JPEG ------------------------------------------------------------- */

static int
has_bytes(const unsigned char *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

static unsigned
rd16(const unsigned char *p, int le)
{
    return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* 1 when the TIFF block of an EXIF segment (t, n bytes) has a GPS IFD
 * pointer (tag 0x8825) in IFD0: a position may be there even when no
 * "GPS" text is. */
static int
exif_gps_ifd(const unsigned char *t, size_t n)
{
    int le;
    uint32_t ifd;
    unsigned count;

    if (n < 8)
        return 0;
    le = t[0] == 'I';
    ifd = rd32(t + 4, le);
    if (ifd + 2 > n)
        return 0;
    count = rd16(t + ifd, le);
    for (unsigned k = 0; k < count && ifd + 2 + 12 * (k + 1) <= n; k++) {
        if (rd16(t + ifd + 2 + 12 * k, le) == 0x8825)
            return 1;
    }
    return 0;
}

int
iu_jpeg_parse(const void *data, size_t len, struct iu_jpeg *out)
{
    const unsigned char *b = data;
    size_t i = 2;
    int frame = 0;

    memset(out, 0, sizeof *out);
    if (len < 4 || b[0] != 0xFF || b[1] != 0xD8)
        return -1;
    while (i < len) {
        const unsigned char *p;
        size_t seglen, n;
        unsigned m;

        if (b[i] != 0xFF)
            return -1;
        while (i < len && b[i] == 0xFF)
            i++; /* fill bytes */
        if (i >= len)
            return -1;
        m = b[i++];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue; /* markers without a length */
        if (m == 0xD8 || m == 0xD9 || i + 2 > len)
            return -1; /* no scan before the end */
        seglen = (size_t)b[i] << 8 | b[i + 1];
        if (seglen < 2 || i + seglen > len)
            return -1;
        p = b + i + 2;
        n = seglen - 2;
        if (m == 0xDA)
            return frame ? 0 : -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (n < 6)
                return -1;
            out->height = p[1] << 8 | p[2];
            out->width = p[3] << 8 | p[4];
            out->components = p[5];
            frame = 1;
        } else if (m == 0xE1) {
            if (n >= 6 && !memcmp(p, "Exif\0\0", 6)) {
                out->has_exif = 1;
                if (exif_gps_ifd(p + 6, n - 6))
                    out->has_gps = 1;
            }
            if (has_bytes(p, n, "ns.adobe.com/x"))
                out->has_xmp = 1;
        } else if (m == 0xED) {
            out->has_iptc = 1;
        } else if (m == 0xE2 && n >= 12 && !memcmp(p, "ICC_PROFILE", 12)) {
            out->has_icc = 1;
            if (has_bytes(p, n, "sRGB"))
                out->icc_srgb = 1;
        } else if (m == 0xFE) {
            out->has_comment = 1;
        }
        /* Only metadata segments: quantisation and Huffman tables can hold
         * any three bytes. */
        if (((m >= 0xE0 && m <= 0xEF) || m == 0xFE) && has_bytes(p, n, "GPS"))
            out->has_gps = 1;
        i += seglen;
    }
    return -1;
}

int
iu_jpeg_set_orientation(void *data, size_t len, int value)
{
    unsigned char *b = data;
    size_t i = 2;

    if (len < 4 || b[0] != 0xFF || b[1] != 0xD8)
        return -1;
    while (i + 4 <= len && b[i] == 0xFF && b[i + 1] != 0xDA) {
        size_t seglen = (size_t)b[i + 2] << 8 | b[i + 3];
        unsigned char *p = b + i + 4, *t = p + 6;
        size_t n = seglen >= 2 ? seglen - 2 : 0;

        if (seglen < 2 || i + 2 + seglen > len)
            return -1;
        if (b[i + 1] == 0xE1 && n >= 14 && !memcmp(p, "Exif\0\0", 6) &&
            (!memcmp(t, "II", 2) || !memcmp(t, "MM", 2))) {
            int le = t[0] == 'I';
            size_t tlen = n - 6;
            uint32_t ifd = rd32(t + 4, le);
            unsigned count;

            if ((size_t)ifd + 2 > tlen)
                return -1;
            count = rd16(t + ifd, le);
            for (unsigned k = 0; k < count; k++) {
                unsigned char *e = t + ifd + 2 + 12 * (size_t)k;

                if ((size_t)(e - t) + 12 > tlen)
                    return -1;
                if (rd16(e, le) == 0x0112 && rd16(e + 2, le) == 3) {
                    e[8] = (unsigned char)(le ? value & 0xff : value >> 8);
                    e[9] = (unsigned char)(le ? value >> 8 : value & 0xff);
                    return 0;
                }
            }
            return -1;
        }
        i += 2 + seglen;
    }
    return -1;
}

/* ---- HTTP ------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len;
};

static int
buf_add(struct buf *b, const void *data, size_t n)
{
    char *grown = realloc(b->p, b->len + n + 1);

    if (!grown)
        return -1;
    b->p = grown;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
    return buf_add(arg, data, size * n) < 0 ? 0 : size * n;
}

struct reader {
    const char *p;
    size_t len, off;
};

static size_t
feed(char *dst, size_t size, size_t n, void *arg)
{
    struct reader *r = arg;
    size_t k = size * n;

    /* Small pieces, so the body really goes out as many chunks. */
    if (k > 16384)
        k = 16384;
    if (k > r->len - r->off)
        k = r->len - r->off;
    memcpy(dst, r->p + r->off, k);
    r->off += k;
    return k;
}

/* Run c and fill out. A server that answers early (413) and closes may
 * make libcurl report a send error after the status arrived: keep the
 * answer then. */
static int
perform(CURL *c, struct th_resp *out)
{
    struct buf body = {0}, hdr = {0};
    CURLcode rc;
    long status = 0;

    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    memset(out, 0, sizeof *out);
    if (rc != CURLE_OK && status == 0) {
        free(body.p);
        free(hdr.p);
        return -1;
    }
    out->status = status;
    out->body = body.p ? body.p : strdup("");
    out->len = body.len;
    out->headers = hdr.p ? hdr.p : strdup("");
    out->json = json_loadb(out->body, out->len, 0, NULL);
    return 0;
}

int
iu_multipart(struct th_server *s, const char *path, const char *token,
             const struct iu_part *parts, int n, int chunked,
             struct th_resp *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct buf body = {0};
    struct reader rd;
    char url[2400], auth[200], line[512];
    int rc = -1;

    if (!c)
        return -1;
    for (int i = 0; i < n; i++) {
        const struct iu_part *p = &parts[i];

        snprintf(line, sizeof line,
                 "--" BOUNDARY "\r\nContent-Disposition: "
                 "form-data; name=\"%s\"",
                 p->name);
        if (buf_add(&body, line, strlen(line)) < 0)
            goto out;
        if (p->filename) {
            size_t fl = p->filename_len ? p->filename_len : strlen(p->filename);

            if (buf_add(&body, "; filename=\"", 12) < 0 ||
                buf_add(&body, p->filename, fl) < 0 ||
                buf_add(&body,
                        "\"\r\nContent-Type: application/"
                        "octet-stream",
                        41) < 0)
                goto out;
        }
        if (buf_add(&body, "\r\n\r\n", 4) < 0 ||
            buf_add(&body, p->data, p->len) < 0 ||
            buf_add(&body, "\r\n", 2) < 0)
            goto out;
    }
    if (buf_add(&body, "--" BOUNDARY "--\r\n", strlen(BOUNDARY) + 6) < 0)
        goto out;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (chunked) {
        rd = (struct reader){body.p, body.len, 0};
        curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(c, CURLOPT_READDATA, &rd);
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    }
    h = curl_slist_append(
        h, "Content-Type: multipart/form-data; boundary=" BOUNDARY);
    h = curl_slist_append(h, "Expect:");
    if (token)
        h = curl_slist_append(h, th_bearer(token, auth, sizeof auth));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc = perform(c, out);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body.p);
    return rc;
}

int
iu_upload(struct th_server *s, const char *token, const char *file_path,
          const char *title, int chunked, struct th_resp *out)
{
    struct iu_part parts[2];
    const char *slash = strrchr(file_path, '/');
    size_t len;
    void *data = iu_read_file(file_path, &len);
    int n = 0, rc;

    if (!data)
        return -1;
    if (title)
        parts[n++] = (struct iu_part){"title", NULL, 0, title, strlen(title)};
    parts[n++] =
        (struct iu_part){"file", slash ? slash + 1 : file_path, 0, data, len};
    rc = iu_multipart(s, "/api/v1/images", token, parts, n, chunked, out);
    free(data);
    return rc;
}

int
iu_req(struct th_server *s, const char *method, const char *path,
       const char *token, const char *extra_header, const char *json,
       struct th_resp *out)
{
    const char *h[2] = {extra_header, NULL};

    return kit_try_on(s, method, path, token, h, NULL, json, out) < 0 ? -1 : 0;
}

struct wait_arg {
    struct th_server *s;
    const char *token, *id;
    char *status;
};

static int
processed(void *arg)
{
    struct wait_arg *w = arg;
    char path[256];
    struct th_resp r;
    int done;

    snprintf(path, sizeof path, "/api/v1/images/%s", w->id);
    if (iu_req(w->s, "GET", path, w->token, NULL, NULL, &r) < 0)
        return 0;
    snprintf(w->status, 32, "%s",
             r.status == 200 ? kit_jstr_or(r.json, "status") : "");
    done = r.status != 200 || strcmp(w->status, "processing") != 0;
    th_resp_free(&r);
    return done;
}

const char *
iu_wait_processed(struct th_server *s, const char *token, const char *id,
                  int ms, char *status)
{
    struct wait_arg w = {s, token, id, status};

    snprintf(status, 32, "processing");
    th_poll(processed, &w, ms);
    return status;
}

const char *
iu_path(const char *dir, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

const char *
iu_unique_corpus(const char *dir, const char *rel, const char *tag, char *buf,
                 size_t len)
{
    char src[512], name[128];
    const char *slash = strrchr(rel, '/');

    snprintf(name, sizeof name, "%s-%s", tag, slash ? slash + 1 : rel);
    iu_path(dir, name, buf, len);
    assert_int_equal(iu_unique_copy(th_corpus(rel, src, sizeof src), buf, tag),
                     0);
    return buf;
}

void
iu_upload_ok(struct th_server *s, const char *token, const char *path,
             const char *title, char *id)
{
    struct th_resp r;

    assert_int_equal(iu_upload(s, token, path, title, 0, &r), 0);
    if (r.status != 202)
        fail_msg("%s: %ld %s", path, r.status, r.body);
    assert_string_equal(kit_jstr_or(r.json, "status"), "processing");
    snprintf(id, 64, "%s", kit_jstr_or(r.json, "id"));
    assert_true(id[0] != '\0');
    th_resp_free(&r);
}

json_t *
iu_get_image(struct th_server *s, const char *token, const char *id)
{
    char path[128];
    struct th_resp r;
    json_t *j;

    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    j = json_incref(r.json);
    th_resp_free(&r);
    return j;
}

void
iu_wait_pending(struct th_server *s, const char *token, const char *id, int ms,
                const char *what)
{
    char status[32];
    json_t *img;

    iu_wait_processed(s, token, id, ms, status);
    if (!strcmp(status, "pending_review"))
        return;
    img = iu_get_image(s, token, id);
    fail_msg("%s ended %s: %s", what, status,
             json_string_value(json_object_get(img, "fail_reason")));
}
