/* Stockroom fuzz target: the EXIF reader, on the strings libvips renders
 * from EXIF tags ("VALUE (VALUE, ASCII, N components, N bytes)"). The
 * input is Make, Model and DateTimeOriginal separated by NUL bytes. */
#include "meta.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"exif-ifd0-Make", "exif-ifd0-Model",
                                         "exif-ifd2-DateTimeOriginal"};
    VipsImage *im = fuzz_header();
    const char *p = (const char *)data, *end = p + size;

    for (size_t i = 0; i < G_N_ELEMENTS(fields) && p < end; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *s = g_strndup(p, len);

        vips_image_set_string(im, fields[i], s);
        g_free(s);
        p += len + 1;
    }
    fuzz_read(im);
    g_object_unref(im);
    return 0;
}
