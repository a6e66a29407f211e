/* Stockroom — keywords: a contributor's comma-separated list trimmed,
 * lower-cased, de-duplicated and checked against its limits. */
#include <stdio.h>
#include <string.h>

#include "catint.h"

static int
is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
           ch == '\v';
}

/* Copy one keyword into dst (cap bytes): trimmed, runs of blanks made one
 * space, ASCII lower-cased (SQLite's lower() does no more either).
 * Returns its length, or -1 when over CAT_KEYWORD_MAX. */
static int
keyword_clean(const char *s, size_t len, char *dst)
{
    size_t n = 0;
    int blank = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (is_space(ch)) {
            blank = n > 0;
            continue;
        }
        if (n + (size_t)blank + 1 > CAT_KEYWORD_MAX)
            return -1;
        if (blank)
            dst[n++] = ' ';
        blank = 0;
        dst[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    dst[n] = '\0';
    return (int)n;
}

/* Is the keyword word (len bytes) already one of the comma-joined list? */
static int
keyword_seen(const char *list, const char *word, size_t len)
{
    const char *p = list;

    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (n == len && memcmp(p, word, len) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Normalise a comma-separated keyword list into out (CAT__KEYWORDS_BUF bytes):
 * empty items dropped, duplicates dropped, first-seen order kept. */
int
cat__keywords_normalise(const char *in, char *out, char err[DB_ERR_LEN])
{
    size_t used = 0;
    int count = 0;

    out[0] = '\0';
    while (in && *in) {
        const char *e = strchr(in, ',');
        size_t len = e ? (size_t)(e - in) : strlen(in);
        char word[CAT_KEYWORD_MAX + 1];
        int n = len > 4 * CAT_KEYWORD_MAX ? -1 : keyword_clean(in, len, word);

        if (n < 0) {
            snprintf(err, DB_ERR_LEN, "a keyword is longer than %d bytes",
                     CAT_KEYWORD_MAX);
            return DB_EINVAL;
        }
        if (n > 0 && !keyword_seen(out, word, (size_t)n)) {
            if (++count > CAT_KEYWORDS_MAX) {
                snprintf(err, DB_ERR_LEN, "more than %d keywords",
                         CAT_KEYWORDS_MAX);
                return DB_EINVAL;
            }
            if (used)
                out[used++] = ',';
            memcpy(out + used, word, (size_t)n + 1);
            used += (size_t)n;
        }
        in = e ? e + 1 : in + len;
    }
    return DB_OK;
}
