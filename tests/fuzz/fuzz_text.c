/* Stockroom fuzz target: the text checks of server/text.c, which every
 * JSON string field and header value from a client goes through. text_ok
 * is compared with GLib's UTF-8 validator. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
reference_ok(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL))
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p == 0x7f)
            return 0;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    int ok;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ok = text_ok(s);
    if (ok != reference_ok(s))
        abort();
    if (text_email_ok(s)) {
        const char *at = strchr(s, '@');

        if (!at || strchr(at + 1, '@') || !strchr(at, '.') || strlen(s) > 254 ||
            strpbrk(s, " \"<>"))
            abort();
    }
    free(s);
    return 0;
}
