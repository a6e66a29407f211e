/* Stockroom imaging: magic bytes, hidden archives and documents.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "internal.h"

/* JPEGs nested in a trailer (MPO frames) walked before giving up. */
#define MAX_NESTED_JPEG 16
/* What a browser sniffs at the start of a file. */
#define SNIFF_WINDOW 1024

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static unsigned
be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned
le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
           p[0];
}

static int
is_heif_brand(const unsigned char *b)
{
    static const char *const brands[] = {"heic", "heix", "hevc", "hevx",
                                         "heim", "heis", "mif1", "msf1",
                                         "avif", "avis", NULL};
    int i;

    for (i = 0; brands[i]; i++)
        if (memcmp(b, brands[i], 4) == 0)
            return 1;
    return 0;
}

/* The ftyp box: its major brand or one of its compatible brands must be a
 * HEIF one (JPEG XL and JPEG 2000 use other brands). */
static int
is_heif(const unsigned char *p, size_t n)
{
    size_t box, off;

    if (n < 16 || memcmp(p + 4, "ftyp", 4) != 0)
        return 0;
    box = be32(p);
    if (box < 16)
        return 0;
    if (is_heif_brand(p + 8))
        return 1;
    for (off = 16; off + 4 <= box && off + 4 <= n; off += 4)
        if (is_heif_brand(p + off))
            return 1;
    return 0;
}

enum img_format
img__sniff(const unsigned char *p, size_t n)
{
    static const unsigned char png_sig[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};

    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return IMG_FMT_JPEG;
    if (n >= 8 && memcmp(p, png_sig, 8) == 0)
        return IMG_FMT_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMG_FMT_WEBP;
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0 ||
                   memcmp(p, "II+\0", 4) == 0 || memcmp(p, "MM\0+", 4) == 0))
        return IMG_FMT_TIFF;
    if (is_heif(p, n))
        return IMG_FMT_HEIF;
    return 0;
}

const char *
img__mime(const unsigned char *p, size_t n, enum img_format f)
{
    size_t box, off;

    switch (f) {
    case IMG_FMT_JPEG:
        return "image/jpeg";
    case IMG_FMT_PNG:
        return "image/png";
    case IMG_FMT_WEBP:
        return "image/webp";
    case IMG_FMT_TIFF:
        return "image/tiff";
    case IMG_FMT_HEIF:
        break;
    }
    /* AVIF when the major brand says so, or when a generic (mif1/msf1)
     * major brand lists avif among the compatible ones. */
    if (memcmp(p + 8, "avif", 4) == 0 || memcmp(p + 8, "avis", 4) == 0)
        return "image/avif";
    if (memcmp(p + 8, "mif1", 4) == 0 || memcmp(p + 8, "msf1", 4) == 0) {
        box = be32(p);
        for (off = 16; off + 4 <= box && off + 4 <= n; off += 4)
            if (memcmp(p + off, "avif", 4) == 0)
                return "image/avif";
    }
    return "image/heic";
}

/* An HTML, SVG or PHP document start, case-insensitively, in p[0..n). */
static int
has_markup(const unsigned char *p, size_t n)
{
    static const char *const tags[] = {"<html", "<script", "<!doctype",
                                       "<svg",  "<?php",   NULL};
    const unsigned char *q, *end = p + n;
    int i;

    for (q = memchr(p, '<', n); q; q = memchr(q + 1, '<', end - q - 1)) {
        for (i = 0; tags[i]; i++) {
            size_t len = strlen(tags[i]);

            if ((size_t)(end - q) >= len &&
                g_ascii_strncasecmp((const char *)q, tags[i], len) == 0)
                return 1;
        }
    }
    return 0;
}

/* A ZIP local file header whose fields are sane: random entropy-coded data
 * matches "PK\3\4" about once per 4 GB, and these checks make a chance
 * match practically impossible. */
static int
is_zip_local(const unsigned char *p, size_t n, size_t off)
{
    static const unsigned methods[] = {0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99};
    unsigned method, name_len;
    size_t i;
    int known = 0;

    if (n - off < 30)
        return 0;
    method = le16(p + off + 8);
    name_len = le16(p + off + 26);
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        known |= method == methods[i];
    if (!known || (p[off + 4] > 63) || name_len == 0 || name_len > 1024 ||
        n - off - 30 < name_len)
        return 0;
    for (i = 0; i < name_len; i++)
        if (p[off + 30 + i] < 0x20 || p[off + 30 + i] == 0x7f)
            return 0;
    return 1;
}

/* An end-of-central-directory record that ends the file exactly, as
 * unzip requires. */
static int
is_zip_end(const unsigned char *p, size_t n, size_t off)
{
    if (n - off < 22)
        return 0;
    return off + 22 + le16(p + off + 20) == n &&
           le16(p + off + 8) <= le16(p + off + 10);
}

static int
has_zip(const unsigned char *p, size_t n)
{
    const unsigned char *q;
    size_t off;

    for (off = 1; off + 4 <= n; off = (size_t)(q - p) + 1) {
        q = memmem(p + off, n - off, "PK", 2);
        if (!q || (size_t)(q - p) + 4 > n)
            return 0;
        if (q[2] == 3 && q[3] == 4 && is_zip_local(p, n, (size_t)(q - p)))
            return 1;
        if (q[2] == 5 && q[3] == 6 && is_zip_end(p, n, (size_t)(q - p)))
            return 1;
    }
    return 0;
}

/* Walk the JPEG starting at p[off] (its SOI) to just past its EOI, looking
 * for markup in every marker segment and refusing codings libjpeg-turbo
 * cannot decode. *end is 0 when the structure is lost (truncated or
 * damaged: libvips judges those). */
static int
walk_jpeg(const unsigned char *p, size_t n, size_t off, size_t *end, char *err)
{
    size_t pos = off + 2;
    unsigned marker, len;
    const unsigned char *q;

    *end = 0;
    while (pos + 2 <= n) {
        if (p[pos] != 0xff)
            return IMG_OK;
        marker = p[pos + 1];
        if (marker == 0xff) { /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0xd9) {
            *end = pos + 2;
            return IMG_OK;
        }
        if ((marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
            pos += 2;
            continue;
        }
        if (pos + 4 > n)
            return IMG_OK;
        len = be16(p + pos + 2);
        if (len < 2 || pos + 2 + len > n)
            return IMG_OK;
        if (has_markup(p + pos + 4, len - 2)) {
            img__err(err, "the image hides an HTML or script document");
            return IMG_EEMBEDDED;
        }
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 &&
            marker != 0xc8 && marker != 0xcc && len >= 3) {
            if (p[pos + 4] != 8) {
                img__err(err, "%u-bit JPEG is not supported: 8-bit only",
                         p[pos + 4]);
                return IMG_EUNSUPPORTED;
            }
            if ((marker & 3) == 3) {
                img__err(err, "lossless JPEG is not supported");
                return IMG_EUNSUPPORTED;
            }
        }
        pos += 2 + len;
        if (marker != 0xda)
            continue;
        /* Entropy-coded data: FF is followed by 00 (stuffing), a restart
         * marker or fill, until the next real marker. */
        while (pos < n) {
            q = memchr(p + pos, 0xff, n - pos);
            if (!q || (size_t)(q - p) + 1 >= n)
                return IMG_OK;
            pos = (size_t)(q - p);
            marker = p[pos + 1];
            if (marker == 0x00 || (marker >= 0xd0 && marker <= 0xd7))
                pos += 2;
            else if (marker == 0xff)
                pos++;
            else
                break;
        }
    }
    return IMG_OK;
}

static int
scan_jpeg(const unsigned char *p, size_t n, char *err)
{
    size_t off = 0, end;
    int rc, i;

    for (i = 0; i < MAX_NESTED_JPEG; i++) {
        rc = walk_jpeg(p, n, off, &end, err);
        if (rc != IMG_OK || end == 0)
            return rc;
        off = end;
        /* Multi-picture files (MPO) append more JPEGs after the first. */
        if (n - off < 3 || p[off] != 0xff || p[off + 1] != 0xd8 ||
            p[off + 2] != 0xff)
            break;
    }
    if (has_markup(p + off, n - off)) {
        img__err(err, "an HTML or script document follows the image");
        return IMG_EEMBEDDED;
    }
    return IMG_OK;
}

/* Every chunk but the pixel data, and whatever follows IEND. */
static int
scan_png(const unsigned char *p, size_t n, uint64_t *w, uint64_t *h, char *err)
{
    size_t pos = 8;
    uint32_t len;
    int iend;

    if (n >= 24 && memcmp(p + 12, "IHDR", 4) == 0) {
        *w = be32(p + 16);
        *h = be32(p + 20);
    }
    while (pos + 12 <= n) {
        len = be32(p + pos);
        if (len > n - pos - 12)
            return IMG_OK;
        if (memcmp(p + pos + 4, "IDAT", 4) != 0 &&
            has_markup(p + pos + 8, len)) {
            img__err(err, "the image hides an HTML or script document");
            return IMG_EEMBEDDED;
        }
        iend = memcmp(p + pos + 4, "IEND", 4) == 0;
        pos += 12 + (size_t)len;
        if (iend)
            break;
    }
    if (pos < n && has_markup(p + pos, n - pos)) {
        img__err(err, "an HTML or script document follows the image");
        return IMG_EEMBEDDED;
    }
    return IMG_OK;
}

int
img__scan(const unsigned char *p, size_t n, enum img_format f, uint64_t *png_w,
          uint64_t *png_h, char *err)
{
    size_t end;
    int rc = IMG_OK;

    *png_w = 0;
    *png_h = 0;
    if (has_zip(p, n)) {
        img__err(err, "the image is also a ZIP archive");
        return IMG_EEMBEDDED;
    }
    if (f == IMG_FMT_JPEG)
        return scan_jpeg(p, n, err);
    if (f == IMG_FMT_PNG)
        return scan_png(p, n, png_w, png_h, err);
    /* WebP, TIFF and HEIF: the window a browser sniffs, and for WebP what
     * follows the RIFF container. */
    if (has_markup(p, n < SNIFF_WINDOW ? n : SNIFF_WINDOW))
        rc = IMG_EEMBEDDED;
    if (f == IMG_FMT_WEBP && n >= 8) {
        end = (size_t)le32(p + 4) + 8;
        if (end < n && has_markup(p + end, n - end))
            rc = IMG_EEMBEDDED;
    }
    if (rc)
        img__err(err, "the image hides an HTML or script document");
    return rc;
}
