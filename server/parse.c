/* Stockroom — parsers of client bytes, kept free of libmicrohttpd so the
 * fuzz targets can drive them directly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

int
srv_parse_json_too_deep(const char *s, size_t len, int max_depth)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int
srv_parse_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;

    while (*p) {
        const char *end;

        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (!strncmp(p, "W/", 2))
            p += 2;
        end = p;
        while (*end && *end != ',')
            end++;
        while (end > p && end[-1] == ' ')
            end--;
        if ((size_t)(end - p) == elen && !strncmp(p, etag, elen))
            return 1;
        p = end;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t
srv_parse_unescape(char *s)
{
    char *w = s;

    for (char *p = s; *p; p++) {
        int hi, lo;

        if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            int v = hi * 16 + lo;

            *w++ = v ? (char)v : 0x7f;
            p += 2;
        } else if (*p == '+') {
            /* Only the query string reaches us with '+' meaning space;
             * paths with '+' are left to fail their route match. */
            *w++ = ' ';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

int
srv_parse_path_ok(const char *path)
{
    if (path[0] != '/')
        return 0;
    for (const char *c = path; *c; c++) {
        /* 0x7f is what the unescaper makes of %00. */
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
            return 0;
    }
    return 1;
}

int
srv_parse_int(const char *v, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long n;

    if (!*v)
        return -1;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

int
srv_parse_bearer(const char *hdr, const char **token)
{
    if (strncasecmp(hdr, "Bearer ", 7) != 0)
        return -1;
    *token = hdr + 7;
    return 0;
}

int
srv_parse_route_match(const char *pattern, const char *path, char *segs,
                      size_t segs_len, const char **params, int max_params)
{
    char pat[256];
    char *p, *s;
    int n = 0;

    if (!strcmp(pattern, "*"))
        return 1;
    if (pattern[0] != '/' || path[0] != '/')
        return 0;
    snprintf(segs, segs_len, "%s", path);
    snprintf(pat, sizeof pat, "%s", pattern);
    p = pat + 1;
    s = segs + 1;
    for (;;) {
        char *pe = strchr(p, '/');
        char *se = strchr(s, '/');

        if (pe)
            *pe = '\0';
        if (se)
            *se = '\0';
        if (!strcmp(p, "{}")) {
            if (!*s || n == max_params)
                return 0;
            params[n++] = s;
        } else if (strcmp(p, s) != 0) {
            return 0;
        }
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}
