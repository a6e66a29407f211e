/* Stockroom — what the money resources share: the store's signing key,
 * Idempotency-Key checks and request digests. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "blob.h"
#include "text.h"
#include "log.h"

#define KEY_FILE "signing.key"

/* ---- the store's signing key ------------------------------------------ */

int
money_keys_load(struct app *app)
{
    char path[1200], tmp[1300];
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "%s/" KEY_FILE, app->cfg.data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, app->sign_sk, sizeof app->sign_sk);
        close(fd);
        if (n != (ssize_t)sizeof app->sign_sk)
            return -1;
        crypto_sign_ed25519_sk_to_pk(app->sign_pk, app->sign_sk);
        return 0;
    }
    if (errno != ENOENT)
        return -1;
    /* First start: make the key, write it where only we can read it, and
     * move it into place in one step. */
    crypto_sign_keypair(app->sign_pk, app->sign_sk);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    n = write(fd, app->sign_sk, sizeof app->sign_sk);
    if (n != (ssize_t)sizeof app->sign_sk || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

void
money_b64(const unsigned char *bin, size_t len, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* The Idempotency-Key header, required on every money-moving request. */
const char *
money_idem_key(struct srv_req *r)
{
    const char *k = srv_req_header(r, "Idempotency-Key");

    if (!k || !*k || strlen(k) >= LEDGER_KEY_LEN || !text_ok(k)) {
        srv_error(r, 400, "missing_idempotency_key",
                  "Send a unique "
                  "Idempotency-Key header (up to %d characters) so a retry "
                  "is never charged twice.",
                  LEDGER_KEY_LEN - 1);
        return NULL;
    }
    return k;
}

void
money_request_hash(const char *canonical, char hex[65])
{
    blob_sha256_bytes(canonical, strlen(canonical), hex);
}
