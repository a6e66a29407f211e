/* Stockroom — checks on text that comes from clients and from files. Pure
 * functions: no state, no allocation. */
#ifndef STOCKROOM_TEXT_H
#define STOCKROOM_TEXT_H

#include <stddef.h>

/* 1 if s is valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF) without control characters other than tab, CR and LF: what we
 * accept as text from a client or a file. */
int text_ok(const char *s);

/* 1 if email looks like an address we can store: one '@', a dot in the
 * domain, no spaces, quotes, angle brackets or control characters, at most
 * 254 bytes. */
int text_email_ok(const char *email);

/* 1 if s is text_ok and one line: no tabs, line breaks or other control
 * characters (a name shown in a list). */
int text_one_line(const char *s);

/* Copy src into dst (len bytes, NUL-terminated, truncated), ASCII letters
 * in lower case. */
void text_lower_copy(char *dst, size_t len, const char *src);

#endif
