/* Stockroom — the check of a Stripe webhook's Stripe-Signature header, as
 * Stripe documents it: "t=TIMESTAMP,v1=HEX[,v1=HEX...]", each v1 the
 * HMAC-SHA256 of "TIMESTAMP.BODY" keyed with the endpoint's secret. Pure:
 * no I/O, no logging, no globals; safe from any thread. */
#ifndef STOCKROOM_STRIPE_SIG_H
#define STOCKROOM_STRIPE_SIG_H

#include <stddef.h>
#include <stdint.h>

#define STRIPE_SIG_TOLERANCE 300   /* seconds, Stripe's own default */
#define STRIPE_SIG_HEADER_MAX 4096 /* longer headers are refused */
#define STRIPE_SIG_MAX_V1 16       /* v1 values looked at, at most */
#define STRIPE_SIG_MAX_SECRETS 8   /* comma-separated secrets, at most */

enum stripe_sig_result {
    STRIPE_SIG_OK = 0,
    STRIPE_SIG_EMISSING = -1,   /* no header, or no t or no v1 in it */
    STRIPE_SIG_EMALFORMED = -2, /* unreadable: bad t, bad hex, too long */
    STRIPE_SIG_ESTALE = -3,     /* t further than tolerance from now */
    STRIPE_SIG_EMISMATCH = -4,  /* no v1 matches any secret */
    STRIPE_SIG_ENOSECRET = -5   /* secrets is NULL, empty or unreadable */
};

/* Check header (NUL-terminated, may be NULL) against the raw body bytes
 * exactly as received, for any of the comma-separated secrets (spaces
 * around them ignored: a rotation lists the old and the new). Any v1 may
 * match; other schemes (v0) are ignored; the compare is constant-time.
 * The timestamp must lie within tolerance seconds of now, either way.
 * Returns STRIPE_SIG_OK or one negative enum stripe_sig_result. */
int stripe_sig_verify(const char *header, const void *body, size_t len,
                      const char *secrets, int64_t now, int64_t tolerance)
    __attribute__((warn_unused_result));

/* A short fixed phrase for a result, for logs; never NULL, never freed. */
const char *stripe_sig_str(int result);

#endif
