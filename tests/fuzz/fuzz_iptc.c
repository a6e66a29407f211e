/* Stockroom fuzz target: the IPTC reader (Photoshop 8BIM blocks and raw
 * IIM datasets). */
#include "meta.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VipsImage *im = fuzz_header();

    vips_image_set_blob_copy(im, VIPS_META_IPTC_NAME, data, size);
    fuzz_read(im);
    g_object_unref(im);
    return 0;
}
