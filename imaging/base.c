/* Stockroom imaging: the preview base, a raw copy of the decoded image.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "internal.h"

#define BASE_MAGIC "SRBI"
#define BASE_VERSION 1
#define BASE_BANDS 3

static void
put_u16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
    put_u16(p, v & 0xffff);
    put_u16(p + 2, v >> 16);
}

static unsigned
get_u16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
get_u32(const unsigned char *p)
{
    return (uint32_t)get_u16(p) | (uint32_t)get_u16(p + 2) << 16;
}

int
img__base_pack(VipsImage *mem, struct img_buf *out, char *err)
{
    int w = vips_image_get_width(mem), h = vips_image_get_height(mem);
    size_t row = (size_t)w * BASE_BANDS, len;
    unsigned char *p;
    int y;

    if (w < 1 || h < 1 || w > IMG_BASE_EDGE || h > IMG_BASE_EDGE ||
        vips_image_get_bands(mem) != BASE_BANDS ||
        vips_image_get_format(mem) != VIPS_FORMAT_UCHAR) {
        img__err(err, "cannot keep a %d x %d image as the preview base", w, h);
        return IMG_EGENERIC;
    }
    len = IMG_BASE_HEADER_LEN + row * (size_t)h;
    p = g_malloc(len);
    memcpy(p, BASE_MAGIC, 4);
    put_u16(p + 4, BASE_VERSION);
    put_u16(p + 6, BASE_BANDS);
    put_u32(p + 8, (uint32_t)w);
    put_u32(p + 12, (uint32_t)h);
    for (y = 0; y < h; y++)
        memcpy(p + IMG_BASE_HEADER_LEN + row * (size_t)y,
               VIPS_IMAGE_ADDR(mem, 0, y), row);
    out->data = p;
    out->len = len;
    return IMG_OK;
}

int
img__base_open(const void *base, size_t len, VipsImage **out, char *err)
{
    const unsigned char *p = base;
    uint32_t w, h;
    VipsImage *im;

    /* Each field is checked before the next is trusted; the edge limit
     * keeps w * h * 3 far from overflowing a size_t. */
    if (!p || len < IMG_BASE_HEADER_LEN || memcmp(p, BASE_MAGIC, 4) != 0) {
        img__err(err, "the preview base is not one");
        return IMG_ECORRUPT;
    }
    if (get_u16(p + 4) != BASE_VERSION || get_u16(p + 6) != BASE_BANDS) {
        img__err(err, "preview base version %u with %u bands is not ours",
                 get_u16(p + 4), get_u16(p + 6));
        return IMG_ECORRUPT;
    }
    w = get_u32(p + 8);
    h = get_u32(p + 12);
    if (w < 1 || h < 1 || w > IMG_BASE_EDGE || h > IMG_BASE_EDGE) {
        img__err(err, "preview base of %lu x %lu pixels is out of range",
                 (unsigned long)w, (unsigned long)h);
        return IMG_ECORRUPT;
    }
    if (len - IMG_BASE_HEADER_LEN != (size_t)w * h * BASE_BANDS) {
        img__err(err, "preview base of %lu x %lu pixels has %zu bytes",
                 (unsigned long)w, (unsigned long)h, len);
        return IMG_ECORRUPT;
    }
    im = vips_image_new_from_memory(p + IMG_BASE_HEADER_LEN,
                                    len - IMG_BASE_HEADER_LEN, (int)w, (int)h,
                                    BASE_BANDS, VIPS_FORMAT_UCHAR);
    if (!im) {
        img__vips_err(err, "cannot read the preview base");
        return IMG_EGENERIC;
    }
    *out = im;
    return IMG_OK;
}
