/* Stockroom — Stripe webhook signatures: parse Stripe-Signature, recompute
 * the HMAC over the raw body, compare in constant time. */
#include <sodium.h>
#include <string.h>

#include "stripe_sig.h"

#define T_DIGITS_MAX 12 /* a unix time in seconds, with room to spare */

struct parsed {
    char t[T_DIGITS_MAX + 1];
    size_t t_len;
    int64_t t_val;
    unsigned char v1[STRIPE_SIG_MAX_V1][crypto_auth_hmacsha256_BYTES];
    size_t n_v1;
};

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One "key=value" item of the header, spaces around it already trimmed. */
static int
parse_item(struct parsed *p, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t klen, vlen;
    const char *v;

    if (!eq)
        return STRIPE_SIG_EMALFORMED;
    klen = (size_t)(eq - s);
    v = eq + 1;
    vlen = n - klen - 1;
    if (klen == 1 && s[0] == 't') {
        /* Two timestamps would leave it unclear which one was signed. */
        if (p->t_len || vlen == 0 || vlen > T_DIGITS_MAX)
            return STRIPE_SIG_EMALFORMED;
        p->t_val = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return STRIPE_SIG_EMALFORMED;
            p->t_val = p->t_val * 10 + (v[i] - '0');
        }
        memcpy(p->t, v, vlen);
        p->t[vlen] = '\0';
        p->t_len = vlen;
        return STRIPE_SIG_OK;
    }
    if (klen == 2 && s[0] == 'v' && s[1] == '1') {
        if (vlen != 2 * crypto_auth_hmacsha256_BYTES)
            return STRIPE_SIG_EMALFORMED;
        if (p->n_v1 == STRIPE_SIG_MAX_V1)
            return STRIPE_SIG_OK; /* more than anyone rotates: ignore */
        for (size_t i = 0; i < crypto_auth_hmacsha256_BYTES; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

            if (hi < 0 || lo < 0)
                return STRIPE_SIG_EMALFORMED;
            p->v1[p->n_v1][i] = (unsigned char)(hi << 4 | lo);
        }
        p->n_v1++;
    }
    return STRIPE_SIG_OK; /* v0 and schemes to come are not ours to judge */
}

static int
parse_header(const char *h, struct parsed *p)
{
    size_t hlen = strnlen(h, STRIPE_SIG_HEADER_MAX + 1);

    if (hlen > STRIPE_SIG_HEADER_MAX)
        return STRIPE_SIG_EMALFORMED;
    while (*h) {
        const char *end = strchr(h, ',');
        size_t n = end ? (size_t)(end - h) : strlen(h);
        const char *s = h;
        int rc;

        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n) {
            rc = parse_item(p, s, n);
            if (rc != STRIPE_SIG_OK)
                return rc;
        }
        h = end ? end + 1 : h + strlen(h);
    }
    if (!p->t_len || !p->n_v1)
        return STRIPE_SIG_EMISSING;
    return STRIPE_SIG_OK;
}

/* 1 when one of the v1 values is the HMAC under this secret. Every v1 is
 * compared, so the time taken does not tell which one matched. */
static int
matches(const struct parsed *p, const char *secret, size_t slen,
        const void *body, size_t len)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    int hit = 0;

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, slen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)p->t, p->t_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    for (size_t i = 0; i < p->n_v1; i++)
        hit |= sodium_memcmp(mac, p->v1[i], sizeof mac) == 0;
    sodium_memzero(&st, sizeof st);
    return hit;
}

int
stripe_sig_verify(const char *header, const void *body, size_t len,
                  const char *secrets, int64_t now, int64_t tolerance)
{
    struct parsed p;
    int rc, n_secrets = 0, hit = 0;
    const char *s;

    if (!secrets || !*secrets)
        return STRIPE_SIG_ENOSECRET;
    if (!header || !*header)
        return STRIPE_SIG_EMISSING;
    if (!body && len)
        return STRIPE_SIG_EMALFORMED;
    memset(&p, 0, sizeof p);
    rc = parse_header(header, &p);
    if (rc != STRIPE_SIG_OK)
        return rc;
    if (p.t_val < now - tolerance || p.t_val > now + tolerance)
        return STRIPE_SIG_ESTALE;
    for (s = secrets; *s && n_secrets < STRIPE_SIG_MAX_SECRETS;) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        const char *k = s;

        while (n && *k == ' ')
            k++, n--;
        while (n && k[n - 1] == ' ')
            n--;
        if (n) {
            hit |= matches(&p, k, n, body ? body : "", len);
            n_secrets++;
        }
        s = end ? end + 1 : s + strlen(s);
    }
    if (!n_secrets)
        return STRIPE_SIG_ENOSECRET;
    return hit ? STRIPE_SIG_OK : STRIPE_SIG_EMISMATCH;
}

const char *
stripe_sig_str(int result)
{
    switch (result) {
    case STRIPE_SIG_OK:
        return "signature valid";
    case STRIPE_SIG_EMISSING:
        return "no Stripe-Signature with a timestamp and a v1 signature";
    case STRIPE_SIG_EMALFORMED:
        return "unreadable Stripe-Signature";
    case STRIPE_SIG_ESTALE:
        return "Stripe-Signature timestamp outside the tolerance";
    case STRIPE_SIG_EMISMATCH:
        return "no v1 signature matches the webhook secret";
    case STRIPE_SIG_ENOSECRET:
        return "no webhook secret configured";
    default:
        return "unknown signature result";
    }
}
