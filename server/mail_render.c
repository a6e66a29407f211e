/* Stockroom — what each message says, and its MIME form. */
#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "mail.h"
#include "outbox.h"

/* A growable text buffer with a ceiling: a message is small. */
struct sb {
    char *p;
    size_t len, cap;
    int bad; /* out of memory or over the ceiling */
};

#define SB_MAX (256 * 1024)

static void
sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = cap > SB_MAX ? NULL : realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_fmt(struct sb *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        b->bad = 1;
    else
        sb_add(b, tmp, (size_t)n);
}

/* User text put into a header loses its control characters: no CR or LF
 * can start a header of its own. */
static void
one_line(const char *in, char *out, size_t len)
{
    size_t i = 0;

    for (; *in && i + 1 < len; in++)
        out[i++] = (unsigned char)*in < 0x20 || *in == 0x7f ? ' ' : *in;
    out[i] = '\0';
}

static int
plain_ascii(const char *s)
{
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && !strchr(" .,:;!?'-()", *s))
            return 0;
    }
    return 1;
}

/* RFC 2047: UTF-8 text as base64 encoded-words of at most 75 characters,
 * folded onto continuation lines; never splits a UTF-8 sequence. */
static void
encode_words(struct sb *b, const char *s)
{
    size_t n = strlen(s), i = 0;
    int first = 1;

    while (i < n) {
        size_t take = 0;
        char enc[80];

        /* 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and
         * "?=" the word stays under 75. */
        while (i + take < n && take < 45) {
            size_t step = 1;
            unsigned char c = (unsigned char)s[i + take];

            if (c >= 0xf0)
                step = 4;
            else if (c >= 0xe0)
                step = 3;
            else if (c >= 0xc0)
                step = 2;
            if (take + step > 45)
                break;
            take += step;
        }
        if (take == 0)
            take = 1;
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        sb_fmt(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        first = 0;
        i += take;
    }
}

static void
header_text(struct sb *b, const char *name, const char *value)
{
    char clean[1024];

    one_line(value, clean, sizeof clean);
    sb_fmt(b, "%s: ", name);
    if (plain_ascii(clean) && strlen(clean) < 900)
        sb_str(b, clean);
    else
        encode_words(b, clean);
    sb_str(b, "\r\n");
}

/* An address header: the display name encoded, the address as is (it was
 * checked to be one line and free of <>). */
static void
header_addr(struct sb *b, const char *name, const char *display,
            const char *addr)
{
    char clean[256];

    one_line(display, clean, sizeof clean);
    sb_fmt(b, "%s: ", name);
    if (clean[0] && plain_ascii(clean))
        sb_fmt(b, "\"%s\" ", clean);
    else if (clean[0]) {
        encode_words(b, clean);
        sb_str(b, " ");
    }
    sb_fmt(b, "<%s>\r\n", addr);
}

/* Quoted-printable (RFC 2045): lines at most 76 characters, CRLF line
 * ends, every byte outside printable ASCII escaped. */
static void
qp(struct sb *b, const char *s)
{
    size_t col = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char enc[4];
        size_t w;

        if (c == '\n') {
            sb_str(b, "\r\n");
            col = 0;
            continue;
        }
        if (c == '\r')
            continue;
        if ((c >= 33 && c <= 126 && c != '=') ||
            (c == ' ' && s[1] != '\n' && s[1] != '\0')) {
            enc[0] = (char)c;
            w = 1;
        } else {
            snprintf(enc, sizeof enc, "=%02X", c);
            w = 3;
        }
        if (col + w > 75) {
            sb_str(b, "=\r\n");
            col = 0;
        }
        sb_add(b, enc, w);
        col += w;
    }
    sb_str(b, "\r\n");
}

static void
html_escape(struct sb *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '&':
            sb_str(b, "&amp;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

/* The text part is paragraphs separated by blank lines; a paragraph that
 * is exactly the link becomes an anchor in the HTML part. */
static void
html_of(struct sb *b, const char *text, const char *link)
{
    const char *p = text;

    sb_str(b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"></head>"
              "<body style=\"font-family:sans-serif\">\n");
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *para;

        while (n > 0 && p[n - 1] == '\n')
            n--;
        para = strndup(p, n);
        if (!para) {
            b->bad = 1;
            return;
        }
        sb_str(b, "<p>");
        if (link && !strcmp(para, link)) {
            sb_str(b, "<a href=\"");
            html_escape(b, link);
            sb_str(b, "\">");
            html_escape(b, link);
            sb_str(b, "</a>");
        } else {
            html_escape(b, para);
        }
        sb_str(b, "</p>\n");
        free(para);
        p += n;
        while (*p == '\n')
            p++;
    }
    sb_str(b, "</body></html>\n");
}

static const char *
pstr(json_t *params, const char *key)
{
    const char *v = json_string_value(json_object_get(params, key));

    return v ? v : "";
}

static long long
pint(json_t *params, const char *key)
{
    return (long long)json_integer_value(json_object_get(params, key));
}

/* What one message says. optional: a notice the account may turn off,
 * which carries List-Unsubscribe. */
struct content {
    char subject[512];
    char text[4096];
    char link[1200];
    int optional;
};

static int
compose(const struct outbox_msg *m, json_t *p, const char *name,
        const char *base, struct content *c)
{
    const char *hello = name && *name ? name : "there";
    const char *k = m->kind;
    int n = 0;

    memset(c, 0, sizeof *c);
    if (!strcmp(k, "verify") || !strcmp(k, "email_change")) {
        snprintf(c->link, sizeof c->link, "%s/verify.html?token=%s", base,
                 pstr(p, "token"));
        snprintf(c->subject, sizeof c->subject, "%s",
                 *k == 'v' ? "Confirm your email address"
                           : "Confirm your new email address");
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\nPlease confirm that this address is "
                     "yours by opening this link:\n\n%s\n\nIf you did not "
                     "ask for this at Stockroom, ignore this message.\n",
                     hello, c->link);
    } else if (!strcmp(k, "email_change_notice")) {
        snprintf(c->link, sizeof c->link, "%s/forgot.html", base);
        snprintf(c->subject, sizeof c->subject,
                 "Your Stockroom address is being changed");
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\nSomeone signed in to your account asked "
                     "to change its email address to %s. It changes when "
                     "the new address is confirmed.\n\nIf this was not "
                     "you, reset your password now:\n\n%s\n",
                     hello, pstr(p, "new_email"), c->link);
    } else if (!strcmp(k, "reset")) {
        snprintf(c->link, sizeof c->link, "%s/reset.html?token=%s", base,
                 pstr(p, "token"));
        snprintf(c->subject, sizeof c->subject,
                 "Reset your Stockroom password");
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\nTo choose a new password, open this link "
                     "within %lld minutes. It works once.\n\n%s\n\nIf you "
                     "did not ask for this, ignore this message: your "
                     "password stays as it is.\n",
                     hello, pint(p, "minutes"), c->link);
    } else if (!strcmp(k, "password_changed")) {
        snprintf(c->link, sizeof c->link, "%s/forgot.html", base);
        snprintf(c->subject, sizeof c->subject,
                 "Your Stockroom password was changed");
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\nThe password of your Stockroom account "
                     "was just changed, and every other session was signed "
                     "out.\n\nIf this was not you, reset it now:\n\n%s\n",
                     hello, c->link);
    } else if (!strcmp(k, "image_approved") || !strcmp(k, "image_rejected")) {
        int ok = k[6] == 'a';

        snprintf(c->link, sizeof c->link, "%s/%s", base,
                 ok ? "image.html?id=" : "dashboard.html");
        if (ok)
            snprintf(c->link + strlen(c->link),
                     sizeof c->link - strlen(c->link), "%s",
                     pstr(p, "image_id"));
        snprintf(c->subject, sizeof c->subject, "Your photo \u201c%s\u201d %s",
                 pstr(p, "title"), ok ? "was approved" : "was not accepted");
        n = snprintf(c->text, sizeof c->text,
                     ok ? "Hello %s,\n\nYour photo \u201c%s\u201d passed "
                          "review and is on sale now.%s%s\n\n%s\n"
                        : "Hello %s,\n\nYour photo \u201c%s\u201d was not "
                          "accepted.%s%s\n\n%s\n",
                     hello, pstr(p, "title"),
                     ok ? "" : " The reason: ", ok ? "" : pstr(p, "reason"),
                     c->link);
        c->optional = 1;
    } else if (!strcmp(k, "sales_digest")) {
        snprintf(c->link, sizeof c->link, "%s/dashboard.html", base);
        snprintf(c->subject, sizeof c->subject,
                 "Your Stockroom sales: %lld licence%s", pint(p, "count"),
                 pint(p, "count") == 1 ? "" : "s");
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\nSince your last digest you sold %lld "
                     "licence%s, earning $%lld.%02lld.\n\n%s\n",
                     hello, pint(p, "count"), pint(p, "count") == 1 ? "" : "s",
                     pint(p, "royalty_cents") / 100,
                     pint(p, "royalty_cents") % 100, c->link);
        c->optional = 1;
    } else if (!strcmp(k, "payout_paid") || !strcmp(k, "payout_failed")) {
        int paid = k[7] == 'p';

        snprintf(c->link, sizeof c->link, "%s/dashboard.html", base);
        snprintf(c->subject, sizeof c->subject,
                 "Your payout of $%lld.%02lld %s",
                 pint(p, "amount_cents") / 100, pint(p, "amount_cents") % 100,
                 paid ? "was paid" : "failed");
        n = snprintf(c->text, sizeof c->text,
                     paid ? "Hello %s,\n\nYour payout of $%lld.%02lld was "
                            "paid.\n\n%s\n"
                          : "Hello %s,\n\nYour payout of $%lld.%02lld could "
                            "not be paid; the money is back in your "
                            "balance.\n\n%s\n",
                     hello, pint(p, "amount_cents") / 100,
                     pint(p, "amount_cents") % 100, c->link);
    } else if (!strcmp(k, "purchase_receipt") ||
               !strcmp(k, "purchase_refunded")) {
        int refund = k[9] == 'r' && k[10] == 'e' && k[11] == 'f';

        snprintf(c->link, sizeof c->link, "%s/credits.html", base);
        snprintf(c->subject, sizeof c->subject, "%s: %lld credits",
                 refund ? "Refunded" : "Your receipt", pint(p, "credits"));
        n = snprintf(c->text, sizeof c->text,
                     "Hello %s,\n\n%s %lld credits for $%lld.%02lld "
                     "(purchase %s).\n\n%s\n",
                     hello, refund ? "We refunded your pack of" : "You bought",
                     pint(p, "credits"), pint(p, "price_cents") / 100,
                     pint(p, "price_cents") % 100, pstr(p, "purchase_id"),
                     c->link);
    } else {
        return -1;
    }
    return n > 0 && (size_t)n < sizeof c->text ? 0 : -1;
}

int
mail_addr_of(const char *from, char *out, size_t len)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    size_t n;

    if (strpbrk(from, "\r\n"))
        return -1;
    if (lt && gt) {
        n = (size_t)(gt - lt - 1);
        from = lt + 1;
    } else {
        n = strlen(from);
    }
    if (n == 0 || n >= len || memchr(from, ' ', n) || memchr(from, '<', n))
        return -1;
    memcpy(out, from, n);
    out[n] = '\0';
    return 0;
}

/* The display name of a "Name <addr>" From, or "". */
static void
display_of(const char *from, char *out, size_t len)
{
    const char *lt = strrchr(from, '<');
    size_t n = lt ? (size_t)(lt - from) : 0;

    while (n > 0 && from[n - 1] == ' ')
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(out, from, n);
    out[n] = '\0';
    if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
        memmove(out, out + 1, n - 2);
        out[n - 2] = '\0';
    }
}

char *
mail_render(const struct outbox_msg *m, const char *name, const char *unsub,
            const char *base, const char *from, int64_t now)
{
    struct sb b = {0}, html = {0};
    struct content c;
    json_t *p = json_loads(m->params ? m->params : "{}", 0, NULL);
    char from_addr[256], from_name[128], domain[200], date[64], bound[40];
    char who[ACC_NAME_LEN];
    unsigned char rnd[12];
    time_t t = (time_t)now;
    struct tm tm;
    const char *at;
    char *out = NULL;

    /* The name goes into a header and a greeting: one line either way. */
    one_line(name ? name : "", who, sizeof who);
    if (!p || strpbrk(m->to_addr, "\r\n<> ") || !strchr(m->to_addr, '@') ||
        mail_addr_of(from, from_addr, sizeof from_addr) < 0 ||
        compose(m, p, who, base, &c) < 0)
        goto out;
    display_of(from, from_name, sizeof from_name);
    at = strchr(from_addr, '@');
    snprintf(domain, sizeof domain, "%s", at ? at + 1 : "stockroom.invalid");
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(bound, sizeof bound, rnd, sizeof rnd);

    sb_fmt(&b, "Date: %s\r\n", date);
    header_addr(&b, "From", from_name, from_addr);
    header_addr(&b, "To", who, m->to_addr);
    header_text(&b, "Subject", c.subject);
    /* The same id on every attempt: a server that got the message twice
     * (accepted, then our record of it was lost) can tell. */
    sb_fmt(&b, "Message-ID: <stockroom.%lld.%lld@%s>\r\n", (long long)m->id,
           (long long)m->created_at, domain);
    if (c.optional && unsub && *unsub) {
        sb_fmt(&b,
               "List-Unsubscribe: <%s/api/v1/unsubscribe/%s>\r\n"
               "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
               base, unsub);
        snprintf(c.text + strlen(c.text), sizeof c.text - strlen(c.text),
                 "\nTo stop these notices, open:\n\n%s/unsubscribe.html?"
                 "token=%s\n",
                 base, unsub);
    }
    sb_str(&b, "Auto-Submitted: auto-generated\r\n");
    sb_str(&b, "MIME-Version: 1.0\r\n");
    sb_fmt(&b,
           "Content-Type: multipart/alternative; boundary=\"=_sr_%s\"\r\n"
           "\r\n"
           "--=_sr_%s\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
           bound, bound);
    qp(&b, c.text);
    sb_fmt(&b,
           "--=_sr_%s\r\n"
           "Content-Type: text/html; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
           bound);
    html_of(&html, c.text, c.link);
    if (html.bad)
        goto out;
    qp(&b, html.p);
    sb_fmt(&b, "--=_sr_%s--\r\n", bound);
    if (!b.bad) {
        out = b.p;
        b.p = NULL;
    }
out:
    json_decref(p);
    free(b.p);
    free(html.p);
    return out;
}
