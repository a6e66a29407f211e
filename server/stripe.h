/* Stockroom — a small client for Stripe's HTTP API over libcurl: form-encoded
 * requests with bracketed keys, the secret key as Bearer auth, a pinned
 * Stripe-Version, idempotency keys, and retries with backoff inside one
 * deadline. Knows nothing of the ledger; never logs the key. */
#ifndef STOCKROOM_STRIPE_H
#define STOCKROOM_STRIPE_H

#include <jansson.h>
#include <stddef.h>

#define STRIPE_API_VERSION "2024-06-20" /* the shapes this code reads */
#define STRIPE_ERR_LEN 256
#define STRIPE_FORM_MAX (64 * 1024) /* ceiling on one request body */
#define STRIPE_REPLY_MAX (4 << 20)  /* ceiling on one reply */
#define STRIPE_DEADLINE_MS 8000     /* a request's whole budget, retries in */

enum stripe_result {
    STRIPE_OK = 0,
    STRIPE_EDOWN = -1,    /* unreachable, slow or 5xx until the deadline */
    STRIPE_EREFUSED = -2, /* a 4xx: Stripe's message is in err */
    STRIPE_EBADREPLY = -3 /* a 2xx that is not a JSON object */
};

/* Where to call and as whom; strings borrowed for the call. */
struct stripe_conf {
    const char *api_url; /* "https://api.stripe.com", no trailing slash */
    const char *secret_key;
    int deadline_ms; /* 0: STRIPE_DEADLINE_MS */
};

/* A form body being built. Zero it, add pairs, release it. A failed add
 * (out of memory, over STRIPE_FORM_MAX) marks it broken and stripe_call
 * then refuses it. */
struct stripe_form {
    char *buf;
    size_t len, cap;
    int broken;
};

/* Append key=value, both percent-encoded ("line_items[0][quantity]"). */
void stripe_form_add(struct stripe_form *f, const char *key, const char *value);
/* Append key=decimal number. */
void stripe_form_add_i64(struct stripe_form *f, const char *key, long long v);
/* Free the buffer and zero f; accepts NULL. */
void stripe_form_release(struct stripe_form *f);

/* Call method ("GET" or "POST") on path ("/v1/refunds", query included for
 * GET), with form as the body (may be NULL) and idem_key as the
 * Idempotency-Key header (NULL: none; every POST that moves money passes
 * one, so a retry never doubles it). Network errors, timeouts, 429 and 5xx
 * are retried with backoff until the deadline. STRIPE_OK with *out the
 * reply object (caller frees with json_decref), else a stripe_result with
 * a reason in err (Stripe's own message for a 4xx; *http_status, which may
 * be NULL, gets the last status or 0). Thread-safe once curl_global_init
 * has run. */
int stripe_call(const struct stripe_conf *c, const char *method,
                const char *path, const struct stripe_form *form,
                const char *idem_key, json_t **out, long *http_status,
                char err[STRIPE_ERR_LEN]) __attribute__((warn_unused_result));

#endif
