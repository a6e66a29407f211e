/* Stockroom fuzz target: the Stripe-Signature check (server/stripe_sig.c).
 * The input is "HEADER\nBODY"; it is checked against a fixed secret pair at
 * a fixed time. Whatever the bytes, the answer is one of the results, and
 * a forged header never passes: the only way to OK is the real HMAC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stripe_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    char *h = malloc(hlen + 1);
    int rc;

    if (!h)
        return 0;
    memcpy(h, data, hlen);
    h[hlen] = '\0';
    rc = stripe_sig_verify(h, nl ? nl + 1 : data + size,
                           nl ? size - hlen - 1 : 0, "whsec_fuzz, whsec_other",
                           1700000000, STRIPE_SIG_TOLERANCE);
    if (rc > 0 || rc < STRIPE_SIG_ENOSECRET || !stripe_sig_str(rc))
        abort();
    (void)stripe_sig_verify(h, "", 0, "", 1700000000, 0);
    free(h);
    return 0;
}
