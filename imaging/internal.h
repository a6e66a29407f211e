/* Stockroom imaging: helpers shared by the files of imaging/.
 * SPDX-License-Identifier: MIT
 *
 * Not part of the API: only the files of imaging/ include this. Names carry the
 * img__ prefix (libvips' convention for library-internal symbols).
 */
#ifndef STOCKROOM_IMAGING_INTERNAL_H
#define STOCKROOM_IMAGING_INTERNAL_H

#include <vips/vips.h>

#include "imaging.h"

/* Errors (imaging.c) */

/* Write a reason into err (may be NULL). */
void img__err(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write "what: <libvips message>" into err and clear libvips' error buffer,
 * which is global to the process. */
void img__vips_err(char *err, const char *what);

/* Deadlines (imaging.c) */

/* A wall-clock budget, watched through the "eval" signal of the image whose
 * pixels are being computed. Lives on the caller's stack for the whole
 * computation. */
struct img__deadline {
    gint64 end_us; /* g_get_monotonic_time() limit, 0 = none */
    gint fired;    /* set (atomically) once the image has been killed */
};

void img__deadline_start(struct img__deadline *d, int ms);

/* Kill im's computation once the deadline has passed. Call on the last
 * image of a pipeline before it is written; downstream images inherit the
 * progress signal. */
void img__deadline_watch(struct img__deadline *d, VipsImage *im);

/* code, or IMG_ETIMEOUT when the deadline killed the computation. */
int img__deadline_code(struct img__deadline *d, int code, char *err);

/* Opening (imaging.c) */

/* An opened, checked source image: header only, no pixel decoded. */
struct img__source {
    enum img_format format;
    VipsImage *header; /* owned: g_object_unref */
    int width, height; /* upright */
};

/* Check the magic bytes of path, open its header with an allowed loader and
 * refuse pixel formats we do not sell (float, complex, 32-bit). On success
 * the caller owns src->header. */
IMG_WUR int img__open(const char *path, struct img__source *src, char *err);

/* Shrink-on-load decode of path to fit long_edge x long_edge (never
 * upscaled), upright, sRGB 8-bit, 3 bands, alpha flattened onto white.
 * The result is sequential: it can be read once. */
IMG_WUR int img__decode(const char *path, const struct img__source *src,
                        int long_edge, VipsImage **out, char *err);

/* Preview base (base.c) */

/* The layout imaging.h describes, of a uchar sRGB 3-band image in memory
 * with a long edge of at most IMG_BASE_EDGE. out->data is g_malloc'd. */
IMG_WUR int img__base_pack(VipsImage *mem, struct img_buf *out, char *err);

/* Check the untrusted bytes [base, base + len) as a preview base and wrap
 * its pixels, without copying, as a memory image: the caller unrefs it
 * before the bytes go. IMG_ECORRUPT when they are not a valid base. */
IMG_WUR int img__base_open(const void *base, size_t len, VipsImage **out,
                           char *err);

/* Sniffing (sniff.c) */

/* The format named by the first bytes, or 0 when none of ours. */
enum img_format img__sniff(const unsigned char *p, size_t n);

/* The MIME type of a sniffed file: tells AVIF from HEIC by the brands. */
const char *img__mime(const unsigned char *p, size_t n, enum img_format f);

/* Look for a ZIP archive or an HTML/script document hidden in the whole
 * file p[0..n), and for JPEG codings libjpeg cannot decode. Also reads the
 * dimensions a PNG header declares into *png_w, *png_h (0 otherwise), so
 * that absurd ones are refused before libpng sees them. Returns 0,
 * IMG_EEMBEDDED or IMG_EUNSUPPORTED. */
IMG_WUR int img__scan(const unsigned char *p, size_t n, enum img_format f,
                      uint64_t *png_w, uint64_t *png_h, char *err);

/* Metadata (meta.c) */

/* Fill the camera, date, title, description and keyword fields of *a from
 * the header's EXIF, XMP and IPTC. Never fails: damaged metadata is
 * skipped. */
void img__meta_read(VipsImage *header, struct img_analysis *a);

/* Hashes and colour (analyse.c uses them; hash.c) */

/* The 8 dihedral difference hashes of a uchar sRGB image in memory. */
void img__dhash8(VipsImage *mem, uint64_t dhash[8]);

/* Name of the dominant colour of a uchar sRGB image in memory. */
const char *img__colour(VipsImage *mem);

#endif
