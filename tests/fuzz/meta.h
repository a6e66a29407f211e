/* Stockroom fuzz targets: the metadata readers of imaging/meta.c, reached
 * as the upload check reaches them, through a header image that carries
 * the fields a loader would have set. */
#ifndef STOCKROOM_FUZZ_META_H
#define STOCKROOM_FUZZ_META_H

#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A 1 x 1 image with no fields: what each input decorates. */
static VipsImage *
fuzz_header(void)
{
    static int started;
    VipsImage *im;

    if (!started) {
        if (VIPS_INIT("fuzz"))
            abort();
        started = 1;
    }
    im = vips_image_new_matrix(1, 1);
    if (!im)
        abort();
    return im;
}

/* Read the fields and check what the header promises of the results. */
static void
fuzz_read(VipsImage *im)
{
    struct img_analysis a;
    size_t n = 0;

    memset(&a, 0, sizeof a);
    img__meta_read(im, &a);
    if (a.title && (strlen(a.title) > 200 || !g_utf8_validate(a.title, -1, 0)))
        abort();
    if (a.description && (strlen(a.description) > 2000 ||
                          !g_utf8_validate(a.description, -1, NULL)))
        abort();
    if (a.keywords) {
        if (!g_utf8_validate(a.keywords, -1, NULL))
            abort();
        for (const char *k = a.keywords; *k; k++)
            n += *k == ',';
        if (n >= 50)
            abort();
    }
    if (strlen(a.camera_make) >= sizeof a.camera_make ||
        strlen(a.camera_model) >= sizeof a.camera_model ||
        (a.date_taken[0] && strlen(a.date_taken) != 19))
        abort();
    img_analysis_release(&a);
}

#endif
