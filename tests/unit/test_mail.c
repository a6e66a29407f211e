/* Stockroom — unit tests of what a message looks like on the wire: MIME
 * structure, RFC 2047 headers, quoted-printable lines, and no way for user
 * text to add a header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mail.h"
#include "outbox.h"

#define BASE "https://shop.example.com"
#define FROM "Stockroom <no-reply@example.com>"

static char *
render(const char *kind, const char *to, const char *params, const char *name,
       const char *unsub)
{
    struct outbox_msg m;

    memset(&m, 0, sizeof m);
    m.id = 42;
    m.created_at = 1796688000;
    snprintf(m.kind, sizeof m.kind, "%s", kind);
    snprintf(m.to_addr, sizeof m.to_addr, "%s", to);
    m.params = (char *)params;
    return mail_render(&m, name, unsub, BASE, FROM, 1796688000);
}

/* The value of header name (unfolded, without the name), or NULL. */
static char *
header(const char *msg, const char *name)
{
    const char *end = strstr(msg, "\r\n\r\n");
    size_t n = strlen(name);

    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n")) {
        if (p != msg)
            p += 2;
        if (!strncmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 2;
            char *out = calloc(1, 2048), *w = out;

            while (*v && !(v[0] == '\r' && v[1] == '\n' && v[2] != ' ')) {
                if (v[0] == '\r' && v[1] == '\n') {
                    v += 2;
                    continue;
                }
                *w++ = *v++;
            }
            return out;
        }
    }
    return NULL;
}

/* Decode a header made of =?UTF-8?B?...?= words (and plain text). */
static void
decode_words(const char *in, char *out, size_t len)
{
    size_t o = 0;

    while (*in && o + 1 < len) {
        if (!strncmp(in, "=?UTF-8?B?", 10)) {
            const char *end = strstr(in + 10, "?=");
            size_t got = 0;

            assert_non_null(end);
            assert_int_equal(
                sodium_base642bin((unsigned char *)out + o, len - o - 1,
                                  in + 10, (size_t)(end - in - 10), NULL, &got,
                                  NULL, sodium_base64_VARIANT_ORIGINAL),
                0);
            o += got;
            in = end + 2;
            while (*in == ' ')
                in++;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

static void
test_structure(void **state)
{
    char *msg = render("reset", "ann@example.com",
                       "{\"token\":\"abc-DEF_123\",\"minutes\":60}", "Ann", "");
    char *v;

    (void)state;
    assert_non_null(msg);
    v = header(msg, "Content-Type");
    assert_non_null(strstr(v, "multipart/alternative; boundary="));
    free(v);
    assert_non_null(v = header(msg, "Date"));
    free(v);
    v = header(msg, "Message-ID");
    assert_string_equal(v, "<stockroom.42.1796688000@example.com>");
    free(v);
    assert_non_null(v = header(msg, "MIME-Version"));
    free(v);
    assert_null(header(msg, "List-Unsubscribe"));
    assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8"));
    assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8"));
    /* Every line ends CRLF and none is longer than 998 (QP: 76). */
    for (const char *p = msg; *p;) {
        const char *nl = strchr(p, '\n');

        assert_non_null(nl);
        assert_true(nl > msg && nl[-1] == '\r');
        p = nl + 1;
    }
    {
        const char *body = strstr(msg, "quoted-printable\r\n\r\n");

        for (const char *p = body; p && *p;) {
            const char *nl = strstr(p, "\r\n");

            if (!nl)
                break;
            assert_true(nl - p <= 76);
            p = nl + 2;
        }
    }
    free(msg);
}

static void
test_encoded_subject_and_name(void **state)
{
    char title[400], params[600], decoded[1024];
    char *msg, *v;

    (void)state;
    memset(title, 0, sizeof title);
    for (int i = 0; i < 40; i++)
        strcat(title, "Zoë ");
    snprintf(params, sizeof params, "{\"image_id\":\"i1\",\"title\":\"%s\"}",
             title);
    msg = render("image_approved", "ann@example.com", params,
                 "Ånné\r\nBcc: eve@example.com",
                 "0123456789abcdef0123456789abcdef");
    assert_non_null(msg);
    v = header(msg, "Subject");
    assert_non_null(strstr(v, "=?UTF-8?B?"));
    decode_words(v, decoded, sizeof decoded);
    assert_non_null(strstr(decoded, title));
    free(v);
    /* Every encoded word is at most 75 characters. */
    for (const char *p = strstr(msg, "=?UTF-8?B?"); p;
         p = strstr(p + 1, "=?UTF-8?B?"))
        assert_true(strstr(p, "?=") - p + 2 <= 75);
    v = header(msg, "To");
    decode_words(v, decoded, sizeof decoded);
    /* CR LF became spaces: the would-be header is display text. */
    assert_non_null(strstr(decoded, "Ånné  Bcc: eve@example.com"));
    assert_non_null(strstr(v, " <ann@example.com>"));
    free(v);
    assert_null(header(msg, "Bcc"));
    assert_null(strstr(msg, "\r\nBcc:"));
    v = header(msg, "List-Unsubscribe");
    assert_string_equal(v, "<" BASE "/api/v1/unsubscribe/"
                           "0123456789abcdef0123456789abcdef>");
    free(v);
    v = header(msg, "List-Unsubscribe-Post");
    assert_string_equal(v, "List-Unsubscribe=One-Click");
    free(v);
    free(msg);
}

static void
test_refused(void **state)
{
    (void)state;
    assert_null(render("reset", "ann@example.com\r\nBcc: eve@example.com", "{}",
                       "Ann", ""));
    assert_null(render("reset", "not an address", "{}", "Ann", ""));
    assert_null(render("no_such_kind", "ann@example.com", "{}", "Ann", ""));
    assert_null(render("reset", "ann@example.com", "{not json", "Ann", ""));
}

static void
test_addr_of(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(mail_addr_of("Stockroom <a@b.example>", out, sizeof out),
                     0);
    assert_string_equal(out, "a@b.example");
    assert_int_equal(mail_addr_of("a@b.example", out, sizeof out), 0);
    assert_string_equal(out, "a@b.example");
    assert_int_equal(mail_addr_of("x <a@b\r\n.example>", out, sizeof out), -1);
    assert_int_equal(mail_addr_of("<>", out, sizeof out), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_encoded_subject_and_name),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_addr_of),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
