/* Stockroom — small helpers shared by the resource files. */
#include <stdio.h>
#include <time.h>

#include "app.h"

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
