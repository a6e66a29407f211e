/* Stockroom — the request as a handler sees it: accessors, JSON fields
 * and query parameters checked with a 422 on a bad value. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "httpint.h"
#include "log.h"
#include "parse.h"

struct app *
srv_req_app(struct srv_req *r)
{
    return r->h->app;
}

const char *
srv_req_path(struct srv_req *r)
{
    return r->path;
}

const char *
srv_req_param(struct srv_req *r, int i)
{
    return i >= 0 && i < MAX_PARAMS ? r->params[i] : NULL;
}

const char *
srv_req_query(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
}

const char *
srv_req_header(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, name);
}

const char *
srv_req_cookie(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, name);
}

const char *
srv_req_client(struct srv_req *r)
{
    return r->client;
}

const char *
srv_req_id(struct srv_req *r)
{
    return r->id;
}

json_t *
srv_req_json(struct srv_req *r)
{
    return r->json;
}

struct srv_part *
srv_req_part(struct srv_req *r, const char *name)
{
    for (struct srv_part *p = r->parts; p; p = p->next) {
        if (!strcmp(p->name, name))
            return p;
    }
    return NULL;
}

const struct acc_user *
srv_req_user(struct srv_req *r)
{
    return r->has_user ? &r->user : NULL;
}

int
srv_req_via_cookie(struct srv_req *r)
{
    return r->via_cookie;
}

const char *
srv_req_csrf(struct srv_req *r)
{
    return r->csrf;
}

const char *
srv_req_body(struct srv_req *r, size_t *len)
{
    *len = r->body_len;
    return r->body ? r->body : "";
}

void
srv_part_take_file(struct srv_part *p)
{
    p->path[0] = '\0';
}

/* ---- JSON fields ------------------------------------------------------ */

int
srv_field_str(struct srv_req *r, const char *key, size_t min_len,
              size_t max_len, int optional, const char **out)
{
    json_t *v = r->json ? json_object_get(r->json, key) : NULL;
    size_t len;

    if (!v || json_is_null(v)) {
        if (optional) {
            *out = NULL;
            return 0;
        }
        srv_error(r, 422, "missing_field", "The field '%s' is required.", key);
        return -1;
    }
    if (!json_is_string(v)) {
        srv_error(r, 422, "invalid_field", "The field '%s' must be a string.",
                  key);
        return -1;
    }
    len = json_string_length(v);
    if (len < min_len || len > max_len || strlen(json_string_value(v)) != len) {
        srv_error(r, 422, "invalid_field",
                  "The field '%s' must be %zu to %zu characters long.", key,
                  min_len, max_len);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int
srv_field_int(struct srv_req *r, const char *key, int64_t min, int64_t max,
              int optional, int64_t *out)
{
    json_t *v = r->json ? json_object_get(r->json, key) : NULL;

    if (!v || json_is_null(v)) {
        if (optional)
            return 0;
        srv_error(r, 422, "missing_field", "The field '%s' is required.", key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        srv_error(r, 422, "invalid_field",
                  "The field '%s' must be a whole number from %lld to %lld.",
                  key, (long long)min, (long long)max);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int
srv_query_int(struct srv_req *r, const char *name, int64_t min, int64_t max,
              int64_t def, int64_t *out)
{
    const char *v = srv_req_query(r, name);

    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (srv_parse_int(v, min, max, out) < 0) {
        srv_error(r, 422, "invalid_parameter",
                  "The parameter '%s' must be a whole number from %lld to "
                  "%lld.",
                  name, (long long)min, (long long)max);
        return -1;
    }
    return 0;
}
