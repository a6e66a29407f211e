/* Stockroom — small helpers shared by the resource files. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "blob.h"

void
app_iso_time(int64_t unix_s, char out[32])
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
app_rendition_url(struct app *app, const char *image_id, int approved,
                  const char *file, char *out, size_t len)
{
    char key[256];

    if (!approved || !app->cfg.rendition_base_url[0]) {
        snprintf(out, len, "/images/%s/%s", image_id, file);
        return;
    }
    blob_key_rendition(image_id,
                       !strcmp(file, "thumbnail.jpg") ? "thumb.jpg" : file, key,
                       sizeof key);
    blob_public_url(app->blobs, app->cfg.rendition_base_url, key, out, len);
}
