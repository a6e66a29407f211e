/* Stockroom fuzz target: the preview-base reader (imaging/base.c), which
 * reads a file of the blob store back as pixels. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int started;
    char err[IMG_ERR_LEN] = "";
    unsigned char *p;
    VipsImage *im = NULL;
    double avg;
    int rc;

    if (!started) {
        if (VIPS_INIT("fuzz"))
            abort();
        started = 1;
    }
    /* A private copy, so that ASan sees any read past the end. */
    p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    rc = img__base_open(p, size, &im, err);
    if (rc == IMG_OK) {
        /* Touch every pixel the header claims. */
        if (vips_avg(im, &avg, NULL) != 0)
            abort();
        g_object_unref(im);
    } else if (rc != IMG_ECORRUPT || !err[0]) {
        abort();
    }
    free(p);
    return 0;
}
