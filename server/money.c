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

/* The key must be a plain file of ours that nobody else can read: a
 * symlink or a loose mode means someone else may hold or swap it. */
static int
key_read(int fd, struct app *app, const char *path)
{
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_error("%s is not a regular file", path);
        return -1;
    }
    if ((st.st_mode & 077) || st.st_uid != geteuid()) {
        log_error("%s must be owned by this user and mode 0600 (it is "
                  "%03o): chmod 600 it",
                  path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    n = read(fd, app->sign_sk, sizeof app->sign_sk);
    if (n != (ssize_t)sizeof app->sign_sk) {
        log_error("%s is not a signing key", path);
        return -1;
    }
    crypto_sign_ed25519_sk_to_pk(app->sign_pk, app->sign_sk);
    return 0;
}

int
money_keys_load(struct app *app)
{
    char path[1200], tmp[1300];
    int fd, rc;
    ssize_t n;

    snprintf(path, sizeof path, "%s/" KEY_FILE, app->cfg.data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        rc = key_read(fd, app, path);
        close(fd);
        return rc;
    }
    if (errno != ENOENT) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    /* First start: make the key in a new file only we can read (never
     * through a link someone left there), then link it into place, which
     * fails rather than replace a key that appeared meanwhile. */
    crypto_sign_keypair(app->sign_pk, app->sign_sk);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    n = write(fd, app->sign_sk, sizeof app->sign_sk);
    if (n != (ssize_t)sizeof app->sign_sk || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    rc = link(tmp, path);
    unlink(tmp);
    return rc;
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
