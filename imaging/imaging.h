/* Stockroom imaging: libvips work on image files. SPDX-License-Identifier: MIT
 *
 * Paths go in; upload checks, thumbnails, watermarked previews, licensed
 * renditions and metadata come out. Knows nothing of HTTP, SQL or users.
 */
#ifndef STOCKROOM_IMAGING_H
#define STOCKROOM_IMAGING_H

#include <stddef.h>
#include <stdint.h>

#define IMG_ERR_LEN 256

#define IMG_WUR __attribute__((warn_unused_result))

/* Result codes: 0 or one of these negatives. */
enum {
    IMG_OK = 0,
    IMG_EGENERIC = -1,       /* libvips or the system failed: a 5xx */
    IMG_EEMPTY = -2,         /* zero-byte file */
    IMG_EUNSUPPORTED = -3,   /* not JPEG/PNG/WebP/TIFF/HEIF, or float pixels */
    IMG_ETOOSMALL = -4,      /* fewer pixels than limits.min_pixels */
    IMG_ETOOMANYPIXELS = -5, /* more pixels than limits.max_pixels */
    IMG_ECORRUPT = -6,       /* damaged or truncated data */
    IMG_EEMBEDDED = -7,      /* also a ZIP archive or an HTML/script page */
    IMG_ESHAPE = -8,         /* long side : short side above max_aspect */
    IMG_ETIMEOUT = -9        /* decode ran past its deadline */
};

enum img_format {
    IMG_FMT_JPEG = 1,
    IMG_FMT_PNG,
    IMG_FMT_WEBP,
    IMG_FMT_TIFF,
    IMG_FMT_HEIF /* HEIC and AVIF */
};

/* Upload limits. A zero field means "no limit" for that field. */
struct img_limits {
    uint64_t min_pixels; /* e.g. 4000000 */
    uint64_t max_pixels; /* e.g. 100000000, checked before any decode */
    int max_aspect;      /* long side : short side, e.g. 20 */
    int deadline_ms;     /* wall-clock budget of the one decode */
};

/* An encoded file in memory. data is owned by the struct: release it with
 * img_buf_release(). */
struct img_buf {
    void *data;
    size_t len;
};

/* What img_analyse() learns about an upload. The indices of dhash are
 * IMG_DHASH_* below. */
struct img_analysis {
    enum img_format format;
    const char *mime;         /* static: "image/jpeg", "image/avif", ... */
    int width, height;        /* upright, after EXIF orientation */
    uint64_t dhash[8];        /* difference hashes of the 8 dihedral variants */
    char colour[16];          /* red orange yellow green teal blue purple pink
                                 brown black white grey */
    char camera_make[64];     /* EXIF Make, or "" */
    char camera_model[64];    /* EXIF Model, or "" */
    char date_taken[32];      /* "2019-05-04T10:22:01" from DateTimeOriginal,
                                 or "" */
    char *title;              /* XMP dc:title or IPTC 2:05, UTF-8, <= 200 bytes,
                                 NULL when absent */
    char *description;        /* XMP dc:description or IPTC 2:120, <= 2000 */
    char *keywords;           /* XMP dc:subject or IPTC 2:25, comma-separated,
                                 <= 50 items, no item holds a comma */
    struct img_buf thumbnail; /* JPEG, long edge 240, no metadata */
    struct img_buf base;      /* the decoded image, long edge 800: see
                                 "Preview base" below */
};

/* Preview base: the clean upright image img_analyse() decoded, long edge
 * IMG_BASE_EDGE (never upscaled), kept so the preview needs no second
 * decode of the original. Our own raw format, all integers little-endian:
 *
 *   0  4 bytes  magic "SRBI"
 *   4  u16      version, 1
 *   6  u16      bands, 3
 *   8  u32      width,  1..IMG_BASE_EDGE
 *  12  u32      height, 1..IMG_BASE_EDGE
 *  16  width x height x 3 bytes: 8-bit sRGB, R G B, rows top to bottom
 *
 * The length is exactly IMG_BASE_HEADER_LEN + width * height * 3. */
#define IMG_BASE_EDGE 800
#define IMG_BASE_HEADER_LEN 16
#define IMG_BASE_MAX_LEN                                                       \
    (IMG_BASE_HEADER_LEN + (size_t)IMG_BASE_EDGE * IMG_BASE_EDGE * 3)

/* dhash[i] is the hash of the upright image transformed as named. A copy
 * that was rotated or mirrored has, as its dhash[0], one of these of the
 * original: compare a new upload's dhash[0] with all 8 of each catalogue
 * entry (or its 8 with their dhash[0]). */
enum {
    IMG_DHASH_UPRIGHT = 0,
    IMG_DHASH_ROT90, /* turned 90 degrees clockwise */
    IMG_DHASH_ROT180,
    IMG_DHASH_ROT270,
    IMG_DHASH_FLIP_H,    /* mirrored left to right */
    IMG_DHASH_FLIP_V,    /* mirrored top to bottom */
    IMG_DHASH_TRANSPOSE, /* mirrored about the main diagonal */
    IMG_DHASH_TRANSVERSE /* mirrored about the other diagonal */
};

/* Life cycle (imaging.c) */

/* Start libvips once per process, before any other img_ call and before
 * threads use it: blocks every loader but JPEG, PNG, WebP, TIFF and HEIF,
 * turns off the operation cache and uses one thread per image (parallelise
 * across images instead). Returns 0 or IMG_EGENERIC. */
IMG_WUR int img_init(void);

/* Stop libvips at exit, after every img_ call has returned. */
void img_shutdown(void);

/* "jpeg", "png", "webp", "tiff", "heif", or "unknown": static strings. */
const char *img_format_name(enum img_format f);

/* Free b->data and empty *b. Accepts NULL and an empty buf. */
void img_buf_release(struct img_buf *b);

/* Upload check (analyse.c) */

/* Check and describe the file at path: format from the magic bytes, no ZIP
 * or HTML hidden in it, dimensions within *lim (read from the header, so
 * bombs are refused before decoding), then one shrink-on-load decode to
 * the preview size, from which come the preview base, the thumbnail, the
 * hashes and the colour. Fills *out only on success; the caller then owns
 * it and frees it with img_analysis_release(). Returns 0 or any IMG_E*
 * code, with the reason in err. Thread-safe. */
IMG_WUR int img_analyse(const char *path, const struct img_limits *lim,
                        struct img_analysis *out, char err[IMG_ERR_LEN]);

/* Free what *a owns and clear those fields. Accepts NULL. */
void img_analysis_release(struct img_analysis *a);

/* Hamming distance of two hashes, 0..64. */
int img_dhash_distance(uint64_t a, uint64_t b);

/* Renditions (render.c) */

/* Watermarked preview of an image img_analyse() accepted: long edge 800
 * (never upscaled), upright, sRGB, watermark_text (UTF-8) tiled diagonally
 * over all of it at an angle and offset that seed chooses, JPEG without any
 * metadata. deadline_ms 0 means none. On success *out holds the file; the
 * caller frees it with img_buf_release(). Returns 0 or IMG_E*. Thread-safe. */
IMG_WUR int img_preview(const char *path, const char *watermark_text,
                        uint64_t seed, int deadline_ms, struct img_buf *out,
                        char err[IMG_ERR_LEN]);

/* The same preview made from a preview base (img_analysis.base, bytes
 * [base, base + len)) instead of the original: no decode, the same pixels,
 * watermark and JPEG as img_preview() gives for that original. The bytes
 * are checked as untrusted: a wrong magic, version, band count, size or
 * length is IMG_ECORRUPT. Ownership and threads as for img_preview(). */
IMG_WUR int img_preview_from_base(const void *base, size_t len,
                                  const char *watermark_text, uint64_t seed,
                                  int deadline_ms, struct img_buf *out,
                                  char err[IMG_ERR_LEN]);

/* Licensed file: long edge long_edge (0 = the original's pixels; never
 * upscaled), upright, sRGB, JPEG Q 90, no source metadata (no GPS), but
 * with copyright and licence_id written into XMP (dc:rights,
 * plus:LicenseID) and EXIF (Copyright, ImageDescription). Streams, so an
 * upright 100 MP original needs little memory; one that must be turned
 * 90 degrees is held in memory once. *out as for img_preview(). */
IMG_WUR int img_render(const char *path, int long_edge, const char *copyright,
                       const char *licence_id, int deadline_ms,
                       struct img_buf *out, char err[IMG_ERR_LEN]);

#endif
