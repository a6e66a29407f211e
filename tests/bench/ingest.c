/* ingest: Stockroom's processing of photos, as the server does it, without
 * HTTP or SQL: img_analyse (checks, thumbnail, hashes, colour, metadata),
 * the SHA-256 of the file (blob_sha256_file in server/blob.c), then
 * img_preview_from_base on the analysis' base (the watermarked preview the
 * worker makes from the base the upload stored).
 *
 *   ingest [--shard K/N] [--passes P] [--no-sha] FILE...
 *
 * Pass p handles the files whose index plus p is K modulo N, so P = N
 * passes give every process each file once; prints
 * "images=... failed=...". Limits are the server's except the 4 MP minimum,
 * so small reference photos are processed rather than refused. */
#include "bench.h"
#include "blob.h"
#include "imaging.h"

int
main(int argc, char **argv)
{
    struct img_limits lim = {0, 100000000, 20, 30000};
    int k = 0, n = 1, passes = 1, sha = 1, done = 0, failed = 0, i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--shard") && i + 1 < argc) {
            if (bench_shard(argv[++i], &k, &n) < 0)
                return 2;
        } else if (!strcmp(argv[i], "--passes") && i + 1 < argc) {
            passes = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--no-sha")) {
            sha = 0;
        } else {
            fprintf(stderr, "usage: ingest [--shard K/N] [--passes P] "
                            "[--no-sha] FILE...\n");
            return 2;
        }
    }
    if (img_init() != IMG_OK) {
        fprintf(stderr, "ingest: libvips did not start\n");
        return 1;
    }
    for (int p = 0; p < passes; p++) {
        for (int f = i; f < argc; f++) {
            struct img_analysis a;
            struct img_buf prev = {0};
            char err[IMG_ERR_LEN], hex[65];

            if ((f - i + p) % n != k)
                continue;
            if (img_analyse(argv[f], &lim, &a, err) != IMG_OK) {
                fprintf(stderr, "ingest: %s: %s\n", argv[f], err);
                failed++;
                continue;
            }
            if (sha && blob_sha256_file(argv[f], hex) < 0) {
                fprintf(stderr, "ingest: %s: cannot hash\n", argv[f]);
                failed++;
            } else if (img_preview_from_base(
                           a.base.data, a.base.len,
                           "Stockroom \xc2\xb7 Bench Contributor",
                           (uint64_t)(f * 7919 + p), 30000, &prev,
                           err) != IMG_OK) {
                fprintf(stderr, "ingest: %s: %s\n", argv[f], err);
                failed++;
            } else {
                done++;
            }
            img_buf_release(&prev);
            img_analysis_release(&a);
        }
    }
    printf("images=%d failed=%d\n", done, failed);
    img_shutdown();
    return failed ? 1 : 0;
}
