/* Stockroom: the fixture the unit tests of imaging/ share: the corpus,
 * a scratch directory, libvips started once per test program.
 * SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <limits.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "imaging_kit.h"

static char corpus[PATH_MAX]; /* absolute path of shared/corpus */
char tmpdir[PATH_MAX];

const struct img_limits store_limits = {4000000, 100000000, 20, 20000};
const struct img_limits open_limits = {0, 100000000, 20, 20000};

const char *
corpus_file(const char *rel)
{
    static char path[PATH_MAX * 2];

    snprintf(path, sizeof path, "%s/%s", corpus, rel);
    return path;
}

double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int
analyse(const char *path, const struct img_limits *lim, struct img_analysis *a)
{
    char err[IMG_ERR_LEN] = "";
    int rc = img_analyse(path, lim, a, err);

    if (rc != IMG_OK)
        print_message("  %s: %d %s\n", path, rc, err);
    return rc;
}

/* Load an encoded file into a memory image, for pixel checks. */
VipsImage *
load_buf(const struct img_buf *b)
{
    VipsImage *im = vips_image_new_from_buffer(b->data, b->len, "", NULL);
    VipsImage *mem;

    assert_non_null(im);
    mem = vips_image_copy_memory(im);
    g_object_unref(im);
    assert_non_null(mem);
    return mem;
}

/* No EXIF, XMP, IPTC or GPS field at all. */
void
assert_no_metadata(VipsImage *im)
{
    gchar **fields = vips_image_get_fields(im);
    int i;

    assert_int_equal(vips_image_get_typeof(im, VIPS_META_EXIF_NAME), 0);
    assert_int_equal(vips_image_get_typeof(im, VIPS_META_XMP_NAME), 0);
    assert_int_equal(vips_image_get_typeof(im, VIPS_META_IPTC_NAME), 0);
    for (i = 0; fields[i]; i++)
        assert_null(strstr(fields[i], "exif-ifd3")); /* the GPS IFD */
    g_strfreev(fields);
}

int
has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);

    return n >= s && g_ascii_strcasecmp(name + n - s, suffix) == 0;
}

uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *message,
      gpointer user)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)user;
}

static int
group_setup(void **state)
{
    const char *env = getenv("STOCKROOM_CORPUS");
    char *tmpl;

    (void)state;
    if (!realpath(env ? env : "../shared/corpus", corpus)) {
        print_error("corpus not found: set STOCKROOM_CORPUS\n");
        return -1;
    }
    tmpl = g_build_filename(g_get_tmp_dir(), "test_imaging.XXXXXX", NULL);
    if (!g_mkdtemp(tmpl)) {
        g_free(tmpl);
        return -1;
    }
    g_strlcpy(tmpdir, tmpl, sizeof tmpdir);
    g_free(tmpl);
    return img_init() == IMG_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    rmdir(tmpdir);
    img_shutdown();
    return 0;
}

int
imaging_kit_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    /* libvips warns on stderr about odd but harmless corpus files (nclx
     * profiles, unknown TIFF tags): keep the output to the results. */
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, quiet, NULL);
    return _cmocka_run_group_tests(name, tests, n, group_setup, group_teardown);
}
