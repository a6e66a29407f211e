/* Stockroom — the fault walk over HTTP: the server is started with its Nth
 * blob write failing (STOCKROOM_FAULT=blob:N, the sanitizer build's hook)
 * and a contributor uploads a photo that the worker then renders. For
 * N = 1, 2, ... past the last write of that path: the upload answers 202 or
 * a 5xx with a JSON error code, processing ends (review or failed, never
 * stuck), the server stays up and stops cleanly (no leak under ASan), and
 * `stockroom ledger verify` passes. The db/ step and allocation walks are
 * in tests/unit/test_faults.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define PROCESS_MS 120000
/* The upload stores the original, a thumbnail and the preview base; the
 * worker writes the renditions: about six writes, two to spare. */
#define BLOB_WRITES 8

/* The corpus photo is small: allow it. */
static const char *const flags[] = {"--min-megapixels", "0.00005", NULL};

static char scratch[256]; /* the uploads' copies */

static void
walk_one(int n)
{
    struct th_server s = {0};
    struct th_resp r;
    char spec[32], token[128], src[512], copy[512], tag[32], status[32];
    char id[64] = "";

    snprintf(spec, sizeof spec, "blob:%d", n);
    assert_int_equal(setenv("STOCKROOM_FAULT", spec, 1), 0);
    assert_int_equal(th_start(&s, flags), 0);
    unsetenv("STOCKROOM_FAULT");
    th_new_user(&s, "faults", token);
    snprintf(tag, sizeof tag, "fault-%d", n);
    snprintf(copy, sizeof copy, "%s/upload-%d.jpg", scratch, n);
    if (iu_unique_copy(th_corpus("real/49-exiftool-GPS.jpg", src, sizeof src),
                       copy, tag) < 0)
        fail_msg("copy to %s: %s", copy, strerror(errno));
    assert_int_equal(iu_upload(&s, token, copy, "Fault", 0, &r), 0);
    if (r.status == 202) {
        snprintf(id, sizeof id, "%s", kit_jstr(r.json, "id"));
    } else if (r.status < 500 || !th_error_code(&r)[0]) {
        fail_msg("%s: upload answered %ld %s", spec, r.status, r.body);
    }
    th_resp_free(&r);
    if (id[0]) {
        iu_wait_processed(&s, token, id, PROCESS_MS, status);
        if (strcmp(status, "pending_review") && strcmp(status, "failed"))
            fail_msg("%s: processing ended %s", spec, status);
        printf("# %s: upload 202, image %s\n", spec, status);
    } else {
        printf("# %s: upload refused with a 5xx\n", spec);
    }
    assert_int_equal(th_req(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
    assert_int_equal(th_stop(&s), 0);
    assert_int_equal(tu_ledger_verify(s.dir), 0);
    th_cleanup(&s);
    unlink(copy);
}

static void
test_blob_walk(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    snprintf(scratch, sizeof scratch, "%s/stockroom-faults-XXXXXX",
             tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(scratch));
    for (int n = 1; n <= BLOB_WRITES; n++)
        walk_one(n);
    rmdir(scratch);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_walk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
