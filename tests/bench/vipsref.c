/* vipsref: the plain libvips reference for the ingest benchmark, the
 * practical limit of calling libvips directly for the same two outputs as
 * Stockroom: a 240 px thumbnail and an 800 px preview with a semi-opaque
 * text watermark tiled diagonally over it, both upright, sRGB, JPEG
 * without metadata. One decode (shrink-on-load to 800 px), the thumbnail
 * made from that in memory, the mask from one line of text replicated and
 * rotated, blended with ifthenelse. Reads the camera make as "metadata".
 *
 *   vipsref [--shard K/N] [--passes P] FILE...
 */
#include <math.h>
#include <vips/vips.h>

#include "bench.h"

static int
watermark(VipsImage *base, int seed, VipsImage **out)
{
    VipsImage *t[8] = {NULL};
    int w = base->Xsize, h = base->Ysize, rc = -1;
    int px = VIPS_MAX(12, VIPS_MIN(40, VIPS_MAX(w, h) / 32));
    char font[64];
    double angle = 20 + seed % 25;
    int tw, th, side;

    snprintf(font, sizeof font, "DejaVu Sans Bold %d", px);
    if (vips_text(&t[0],
                  "Stockroom \xc2\xb7 Bench Contributor   \xe2\x80\xa2   ",
                  "font", font, "dpi", 72, NULL))
        goto out;
    tw = t[0]->Xsize;
    th = t[0]->Ysize;
    side = (int)ceil(M_SQRT2 * (VIPS_MAX(w, h) + tw)) + 2;
    if (vips_embed(t[0], &t[1], 0, 0, tw, 3 * th, NULL) ||
        vips_replicate(t[1], &t[2], side / tw + 1, side / (3 * th) + 1, NULL) ||
        vips_rotate(t[2], &t[3], angle, NULL) ||
        vips_crop(t[3], &t[4], (t[3]->Xsize - w) / 2, (t[3]->Ysize - h) / 2, w,
                  h, NULL) ||
        vips_linear1(t[4], &t[5], 0.55, 0, "uchar", TRUE, NULL) ||
        !(t[6] = vips_image_new_from_image1(base, 255)) ||
        vips_ifthenelse(t[5], t[6], base, out, "blend", TRUE, NULL))
        goto out;
    rc = 0;
out:
    for (int i = 0; i < 8; i++)
        if (t[i])
            g_object_unref(t[i]);
    return rc;
}

static int
one(const char *path, int seed)
{
    VipsImage *dec = NULL, *mem = NULL, *small = NULL, *marked = NULL;
    const char *make = NULL;
    void *buf = NULL, *tbuf = NULL;
    size_t len, tlen;
    double scale;
    int rc = -1;

    if (vips_thumbnail(path, &dec, 800, "height", 800, "size", VIPS_SIZE_DOWN,
                       "export_profile", "srgb", NULL) ||
        !(mem = vips_image_copy_memory(dec)))
        goto out;
    if (vips_image_get_typeof(mem, "exif-ifd0-Make"))
        vips_image_get_string(mem, "exif-ifd0-Make", &make);
    (void)make;
    scale = 240.0 / VIPS_MAX(mem->Xsize, mem->Ysize);
    if (vips_resize(mem, &small, VIPS_MIN(1.0, scale), NULL) ||
        vips_jpegsave_buffer(small, &tbuf, &tlen, "Q", 80, "strip", TRUE,
                             NULL) ||
        watermark(mem, seed, &marked) ||
        vips_jpegsave_buffer(marked, &buf, &len, "Q", 82, "strip", TRUE, NULL))
        goto out;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "vipsref: %s: %s", path, vips_error_buffer());
    vips_error_clear();
    g_free(buf);
    g_free(tbuf);
    if (marked)
        g_object_unref(marked);
    if (small)
        g_object_unref(small);
    if (mem)
        g_object_unref(mem);
    if (dec)
        g_object_unref(dec);
    return rc;
}

int
main(int argc, char **argv)
{
    int k = 0, n = 1, passes = 1, done = 0, failed = 0, i;

    if (VIPS_INIT(argv[0]))
        return 1;
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--shard") && i + 1 < argc) {
            if (bench_shard(argv[++i], &k, &n) < 0)
                return 2;
        } else if (!strcmp(argv[i], "--passes") && i + 1 < argc) {
            passes = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: vipsref [--shard K/N] [--passes P] "
                            "FILE...\n");
            return 2;
        }
    }
    for (int p = 0; p < passes; p++)
        for (int f = i; f < argc; f++)
            if ((f - i + p) % n == k) {
                if (one(argv[f], f * 7919 + p) == 0)
                    done++;
                else
                    failed++;
            }
    printf("images=%d failed=%d\n", done, failed);
    vips_shutdown();
    return failed ? 1 : 0;
}
