/* Stockroom — liveness, metrics and the static files of web/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "log.h"
#include "parse.h"

void
system_healthz(struct srv_req *r)
{
    srv_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void
system_metrics(struct srv_req *r)
{
    char *text = srv_http_metrics(srv_req_app(r)->http);

    if (!text) {
        srv_reply_internal(r, "metrics", "out of memory");
        return;
    }
    srv_bytes(r, 200, text, strlen(text), "text/plain; version=0.0.4");
    free(text);
}

static const char *
mime_of(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        if (!strcmp(dot, types[i].ext))
            return types[i].mime;
    }
    return NULL;
}

/* Only plain names below web/: no "..", no hidden files, nothing a
 * filesystem could read as something else. */
static int
static_path_ok(const char *path)
{
    const char *seg = path;

    for (const char *c = path; *c; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
                 *c == '_' || *c == '/';

        if (!ok)
            return 0;
        if (*c == '/') {
            if (c[1] == '.' || c[1] == '/' || c[1] == '\0')
                return c[1] == '\0' && c == path;
            seg = c + 1;
        }
    }
    return *seg != '\0';
}

/* Send web/<name> with its ETag, or 304 when the client has it. */
int
system_static_send(struct srv_req *r, const char *name, unsigned status)
{
    struct app *app = srv_req_app(r);
    char full[2300], etag[64];
    const char *mime = mime_of(name);
    const char *inm;
    struct stat st;
    int fd;

    if (!mime)
        return -1;
    snprintf(full, sizeof full, "%s%s", app->cfg.web_dir, name);
    fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    snprintf(etag, sizeof etag, "\"%llx-%llx\"",
             (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
    srv_header(r, "ETag", etag);
    srv_header(r, "Cache-Control", "no-cache");
    inm = srv_req_header(r, "If-None-Match");
    if (status == 200 && inm && srv_parse_etag_matches(inm, etag)) {
        close(fd);
        srv_empty(r, 304);
        return 0;
    }
    srv_fd(r, status, fd, (uint64_t)st.st_size, mime);
    return 0;
}

void
system_static(struct srv_req *r)
{
    const char *path = srv_req_path(r);
    const char *accept = srv_req_header(r, "Accept");

    if (!strncmp(path, "/api/", 5) || !static_path_ok(path)) {
        srv_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    if (!strcmp(path, "/"))
        path = "/index.html";
    if (system_static_send(r, path, 200) == 0)
        return;
    if (accept && strstr(accept, "text/html") &&
        system_static_send(r, "/404.html", 404) == 0)
        return;
    srv_error(r, 404, "not_found", "There is nothing at this address.");
}
