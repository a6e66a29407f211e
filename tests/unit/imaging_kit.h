/* Stockroom: the fixture the unit tests of imaging/ share (imaging_kit.c).
 * SPDX-License-Identifier: MIT */
#ifndef STOCKROOM_IMAGING_KIT_H
#define STOCKROOM_IMAGING_KIT_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "imaging.h"

extern char tmpdir[PATH_MAX]; /* scratch files made by the tests */

extern const struct img_limits store_limits; /* the store's: 4 MP minimum */
extern const struct img_limits open_limits;  /* no minimum */

/* The path of rel inside the corpus, in a static buffer that the next
 * call overwrites. */
const char *corpus_file(const char *rel);

/* Monotonic seconds. */
double now(void);

/* img_analyse, printing the reason of a failure. */
int analyse(const char *path, const struct img_limits *lim,
            struct img_analysis *a);

/* Load an encoded file into a memory image, for pixel checks; the caller
 * unrefs it. */
VipsImage *load_buf(const struct img_buf *b);

/* No EXIF, XMP, IPTC or GPS field at all. */
void assert_no_metadata(VipsImage *im);

int has_suffix(const char *name, const char *suffix);

uint32_t le32(const unsigned char *p);

/* Run tests with libvips started and the scratch directory made. */
int imaging_kit_run(const char *name, const struct CMUnitTest *tests, size_t n);

#define IMAGING_KIT_RUN(tests)                                                 \
    imaging_kit_run(#tests, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
