/* Stockroom — helpers for the image tests: JPEG headers read by hand (the
 * tests may not link libvips), hand-made multipart bodies (libcurl's mime
 * API cannot send a NUL in a filename), polling an image's status, and
 * files on disk. */
#ifndef STOCKROOM_IMGUTIL_H
#define STOCKROOM_IMGUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* Files. */

/* The whole file at path; caller frees. NULL when unreadable. */
void *iu_read_file(const char *path, size_t *len);

/* Write len bytes to path (created or truncated). 0 or -1. */
int iu_write_file(const char *path, const void *data, size_t len);

/* Copy src to dst with "\n" tag appended: the same pixels under another
 * SHA-256, so one corpus file can be uploaded again without a 409. Image
 * decoders ignore bytes after the end of the image. 0 or -1. */
int iu_unique_copy(const char *src, const char *dst, const char *tag);

/* dir/name into buf; returns buf. */
const char *iu_path(const char *dir, const char *name, char *buf, size_t len);

/* A copy in dir of the corpus file rel with its own SHA-256 (tag makes it
 * unique); its path into buf, which is returned. Fails the test on error. */
const char *iu_unique_corpus(const char *dir, const char *rel, const char *tag,
                             char *buf, size_t len);

/* Regular files under dir (recursively) whose name contains substr (""
 * counts every file); -1 when dir cannot be read. */
int iu_count_files(const char *dir, const char *substr);

/* PNG. */

/* v big-endian into p[0..3]. */
void iu_put32(unsigned char *p, uint32_t v);

/* The CRC-32 of a PNG chunk's type and data (n bytes at p). */
uint32_t iu_crc32(const unsigned char *p, size_t n);

/* JPEG. */

struct iu_jpeg {
    int width, height;
    int components;  /* 1 grey, 3 YCbCr/RGB, 4 CMYK */
    int has_exif;    /* APP1 "Exif" */
    int has_xmp;     /* APP1 XMP (either namespace form) */
    int has_iptc;    /* APP13 Photoshop/IPTC */
    int has_icc;     /* APP2 ICC_PROFILE */
    int icc_srgb;    /* ... whose description names sRGB */
    int has_gps;     /* a GPS IFD, or "GPS" in a metadata segment */
    int has_comment; /* COM segment */
};

/* Walk the markers of a JPEG up to its first scan. 0 when it is one (SOI,
 * a frame header, a scan), -1 otherwise. */
int iu_jpeg_parse(const void *data, size_t len, struct iu_jpeg *out);

/* Set the EXIF Orientation tag of IFD0 in place. The pixels stay as they
 * are stored, so a file tagged 6 (turn to display) set to 1 shows the
 * picture turned: a genuinely rotated copy, made without a codec. 0, or -1
 * when the file has no such tag. */
int iu_jpeg_set_orientation(void *data, size_t len, int value);

/* HTTP. */

/* One part of a hand-made multipart/form-data body. */
struct iu_part {
    const char *name;
    const char *filename; /* NULL: a plain field */
    size_t filename_len;  /* 0: strlen(filename); may hold NULs */
    const void *data;
    size_t len;
};

/* POST the parts to path as multipart/form-data, with the bearer token
 * (may be NULL); chunked sends it with Transfer-Encoding: chunked instead
 * of a Content-Length. Fills out (th_resp_free). 0, or -1 when no answer
 * came (a server that cuts off an oversized body may do that). */
int iu_multipart(struct th_server *s, const char *path, const char *token,
                 const struct iu_part *parts, int n, int chunked,
                 struct th_resp *out);

/* Upload the file at file_path as "file" with an optional title, chunked
 * or not. */
int iu_upload(struct th_server *s, const char *token, const char *file_path,
              const char *title, int chunked, struct th_resp *out);

/* A request with an optional bearer token, an optional extra header line
 * and an optional JSON body. */
int iu_req(struct th_server *s, const char *method, const char *path,
           const char *token, const char *extra_header, const char *json,
           struct th_resp *out);

/* Upload the file at path to s as token and expect 202 processing; the
 * new id into id (64 bytes). Fails the test otherwise. */
void iu_upload_ok(struct th_server *s, const char *token, const char *path,
                  const char *title, char *id);

/* GET /api/v1/images/{id} on s as token, expecting 200: its JSON (the
 * caller decrefs). */
json_t *iu_get_image(struct th_server *s, const char *token, const char *id);

/* Wait (up to ms) for processing to end; fail, with the server's reason,
 * unless the image is then waiting for review. what names it. */
void iu_wait_pending(struct th_server *s, const char *token, const char *id,
                     int ms, const char *what);

/* Poll GET /api/v1/images/{id} as token until the status is no longer
 * "processing"; copies the final status into status (at least 32 bytes),
 * "processing" on timeout, "" when it could not be read. */
const char *iu_wait_processed(struct th_server *s, const char *token,
                              const char *id, int ms, char *status);

#endif
