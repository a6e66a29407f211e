/* Stockroom — parsers of the bytes a client sends, as pure functions: no
 * libmicrohttpd, no allocation, no global state, so a fuzz target links
 * parse.o alone. Each takes NUL-terminated text unless it takes a length. */
#ifndef STOCKROOM_PARSE_H
#define STOCKROOM_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the JSON text s (len bytes, not NUL-terminated) nests objects and
 * arrays deeper than max_depth, counted without parsing (brackets inside
 * strings do not count); 0 otherwise. */
int srv_parse_json_too_deep(const char *s, size_t len, int max_depth);

/* 1 if an If-None-Match header value names etag (a quoted strong tag):
 * a list of tags, weak W/ forms (compared weakly, as RFC 9110 says for
 * If-None-Match) and "*" all count. */
int srv_parse_etag_matches(const char *header, const char *etag);

/* Percent-decode s in place, '+' as space, and return the new length.
 * %00 becomes 0x7f, which srv_parse_path_ok refuses, so a NUL can never
 * hide what follows it. */
size_t srv_parse_unescape(char *s);

/* 1 if a decoded path may be routed: starts with '/', no control
 * characters, no 0x7f, no backslash. */
int srv_parse_path_ok(const char *path);

/* A whole number in [min, max] from v: 0, or -1 (out untouched) on an
 * empty string, trailing text or a value out of range. */
int srv_parse_int(const char *v, int64_t min, int64_t max, int64_t *out);

/* The token of an "Authorization: Bearer TOKEN" value (the scheme in any
 * case), pointing into hdr: 0, or -1 for any other scheme. */
int srv_parse_bearer(const char *hdr, const char **token);

/* Match path against a route pattern segment by segment ("*" matches
 * everything; a "{}" segment captures one non-empty segment). The path is
 * copied into segs (segs_len bytes) and split there; params[0..max_params)
 * point into segs. 1 on a match, 0 otherwise. */
int srv_parse_route_match(const char *pattern, const char *path, char *segs,
                          size_t segs_len, const char **params, int max_params);

#endif
