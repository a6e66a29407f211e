/* Stockroom — checks on text from clients and files: pure functions, unit
 * tested on their own. */
#include <ctype.h>
#include <string.h>

#include "text.h"

int
text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n;
        unsigned cp;

        if (*p < 0x80) {
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ||
                *p == 0x7f)
                return 0;
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0) {
            n = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past Unicode. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
            (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

int
text_email_ok(const char *email)
{
    const char *at = strchr(email, '@');
    size_t len = strlen(email);

    if (len < 3 || len > 254 || !at || at == email || strchr(at + 1, '@'))
        return 0;
    if (!strchr(at + 1, '.') || at[1] == '.' || email[len - 1] == '.')
        return 0;
    for (const char *c = email; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '<' || *c == '>' ||
            *c == '"' || *c == ',')
            return 0;
    }
    return 1;
}

int
text_one_line(const char *s)
{
    if (!text_ok(s))
        return 0;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            return 0;
    }
    return 1;
}

void
text_lower_copy(char *dst, size_t len, const char *src)
{
    size_t i = 0;

    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}
