/* Stockroom — request bodies: JSON buffered under a ceiling and checked
 * for depth before parsing, multipart fields streamed to temporary files. */
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

void
srv__parse_json_body(struct srv_req *r)
{
    json_error_t e;

    if (r->body_len == 0) {
        srv_error(r, 400, "malformed_json", "The request needs a JSON body.");
        return;
    }
    if (srv_parse_json_too_deep(r->body, r->body_len, JSON_DEPTH)) {
        srv_error(r, 400, "malformed_json", "The JSON is nested too deeply.");
        return;
    }
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!r->json) {
        srv_error(r, 400, "malformed_json", "The body is not valid JSON: %s.",
                  e.text);
        return;
    }
    if (!json_is_object(r->json))
        srv_error(r, 422, "invalid_body", "The body must be a JSON object.");
}

enum MHD_Result
srv__post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
               const char *filename, const char *content_type,
               const char *transfer_encoding, const char *data, uint64_t off,
               size_t size)
{
    struct srv_req *r = cls;
    struct app *app = r->h->app;
    struct srv_part *p = r->cur;

    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (off == 0) {
        if (r->n_parts == MAX_PARTS) {
            srv_error(r, 413, "too_large", "Too many form fields.");
            return MHD_NO;
        }
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        p->fd = -1;
        snprintf(p->name, sizeof p->name, "%s", key ? key : "");
        p->next = r->parts;
        r->parts = p;
        r->cur = p;
        r->n_parts++;
        /* The part named "file" is always a file, also when a filename
         * libmicrohttpd could not pass on (a NUL in it) went missing. */
        if (filename || (key && !strcmp(key, "file"))) {
            snprintf(p->filename, sizeof p->filename, "%s",
                     filename ? filename : "");
            snprintf(p->path, sizeof p->path, "%s/upload-XXXXXX", app->tmp_dir);
            p->fd = mkostemp(p->path, O_CLOEXEC);
            if (p->fd < 0) {
                p->path[0] = '\0';
                srv_reply_overloaded(r, "storage_unavailable", "upload",
                                     "temporary file: %s", strerror(errno));
                return MHD_NO;
            }
        }
    }
    if (!p)
        return MHD_NO;
    if (p->fd >= 0) {
        if ((int64_t)(p->size + size) > app->cfg.upload_limit) {
            srv_error(r, 413, "too_large", "The file is larger than %lld MiB.",
                      (long long)(app->cfg.upload_limit >> 20));
            return MHD_NO;
        }
        for (size_t done = 0; done < size;) {
            ssize_t w = write(p->fd, data + done, size - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                srv_reply_overloaded(r, "storage_unavailable", "upload",
                                     "writing: %s", strerror(errno));
                return MHD_NO;
            }
            done += (size_t)w;
        }
    } else {
        char *grown;

        if (p->size + size > FIELD_LIMIT) {
            srv_error(r, 413, "too_large", "The field '%s' is too long.",
                      p->name);
            return MHD_NO;
        }
        grown = realloc(p->value, p->size + size + 1);
        if (!grown)
            return MHD_NO;
        p->value = grown;
        memcpy(p->value + p->size, data, size);
        p->value[p->size + size] = '\0';
    }
    p->size += size;
    return MHD_YES;
}

/* Take another piece of the body. May make a reply (413 and friends). */
void
srv__req_consume(struct srv_req *r, const char *data, size_t size)
{
    struct app *app = r->h->app;

    r->received += size;
    switch (r->route->body) {
    case SRV_BODY_NONE:
        srv_error(r, 413, "too_large", "This request takes no body.");
        break;
    case SRV_BODY_RAW:
    case SRV_BODY_JSON: {
        size_t limit = r->route->body == SRV_BODY_RAW ? (size_t)SRV_RAW_LIMIT
                                                      : app->cfg.json_limit;
        char *grown;

        if (r->body_len + size > limit) {
            srv_error(r, 413, "too_large", "The body is larger than %zu bytes.",
                      limit);
            break;
        }
        grown = realloc(r->body, r->body_len + size + 1);
        if (!grown) {
            srv_reply_overloaded(r, "overloaded", "request", "out of memory");
            break;
        }
        r->body = grown;
        memcpy(r->body + r->body_len, data, size);
        r->body_len += size;
        r->body[r->body_len] = '\0';
        break;
    }
    case SRV_BODY_MULTIPART:
        if ((int64_t)r->received > app->cfg.upload_limit + FORM_SLACK) {
            srv_error(r, 413, "too_large",
                      "The upload is larger than %lld MiB.",
                      (long long)(app->cfg.upload_limit >> 20));
            break;
        }
        if (MHD_post_process(r->pp, data, size) != MHD_YES && !r->resp)
            srv_error(r, 400, "malformed_body",
                      "The multipart body could not be read.");
        break;
    }
}
