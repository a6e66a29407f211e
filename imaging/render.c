/* Stockroom imaging: watermarked previews and licensed renditions.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "internal.h"

#define PREVIEW_Q 82
#define RENDER_Q 90
#define WATERMARK_FONT "DejaVu Sans Bold"
#define WATERMARK_TEXT_MAX 120 /* bytes of caller text drawn */
#define ALPHA_DARK 0.5         /* strength of the dark edge */
#define ALPHA_LIGHT 0.55       /* strength of the light letters */

static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One row of "text  •  " drawn once: a 1-band mask, 255 on the letters. */
static int
text_unit(const char *text, int px, VipsImage **out, char *err)
{
    char *cut, *markup, *font;
    int rc = IMG_OK;

    /* vips_text takes Pango markup: the contributor's name is escaped. */
    cut = g_utf8_make_valid(text, -1);
    if (strlen(cut) > WATERMARK_TEXT_MAX) {
        char *end = cut + WATERMARK_TEXT_MAX;

        while (end > cut && ((unsigned char)*end & 0xc0) == 0x80)
            end--;
        *end = '\0';
    }
    markup = g_markup_printf_escaped("%s   \xe2\x80\xa2   ", cut);
    font = g_strdup_printf("%s %d", WATERMARK_FONT, px);
    if (vips_text(out, markup, "font", font, "dpi", 72, NULL)) {
        img__vips_err(err, "cannot draw the watermark text");
        rc = IMG_EGENERIC;
    }
    g_free(font);
    g_free(markup);
    g_free(cut);
    return rc;
}

/* The w x h watermark mask: rows of repeated text, alternate rows shifted
 * by half a unit, turned by a seeded angle and cut at a seeded offset. It
 * is built once and lazily: only the cropped window is ever computed. */
static int
watermark_mask(int w, int h, const char *text, uint64_t seed, VipsImage **out,
               char *err)
{
    VipsImage *t[8] = {NULL};
    uint64_t state = seed, r1, r2;
    int px, tw, th, pitch, side, across, down, rw, rh, left, top, i;
    double angle;
    int rc;

    px = MAX(12, MIN(40, MAX(w, h) / 32));
    rc = text_unit(text[0] ? text : "Stockroom", px, &t[0], err);
    if (rc != IMG_OK)
        goto out;
    tw = vips_image_get_width(t[0]);
    th = vips_image_get_height(t[0]);
    /* Rows three text heights apart cross every 200 px square of an
     * 800 px preview at least twice, whatever the angle. */
    pitch = 3 * th;
    r1 = splitmix64(&state);
    r2 = splitmix64(&state);
    angle = 20.0 + (double)(r1 % 2501) / 100.0;
    if (r1 >> 63)
        angle = -angle;
    /* A square sheet of side s turned by any angle still holds a centred
     * upright square of side s / sqrt(2): make that cover the image plus
     * the largest offset. */
    side = (int)ceil(M_SQRT2 * (MAX(w, h) + tw + 2 * pitch)) + 2;
    across = side / tw + 1;
    down = side / (2 * pitch) + 1;
    /* The two-row cell is small: render it once into memory, so that the
     * rotation reads a plain replicated buffer. */
    if (vips_embed(t[0], &t[1], 0, 0, tw, pitch, NULL) ||
        vips_wrap(t[1], &t[2], "x", tw / 2, "y", 0, NULL) ||
        vips_join(t[1], t[2], &t[6], VIPS_DIRECTION_VERTICAL, NULL) ||
        !(t[3] = vips_image_copy_memory(t[6])) ||
        vips_replicate(t[3], &t[4], across, down, NULL) ||
        vips_rotate(t[4], &t[5], angle, NULL)) {
        img__vips_err(err, "cannot lay out the watermark");
        rc = IMG_EGENERIC;
        goto out;
    }
    rw = vips_image_get_width(t[5]);
    rh = vips_image_get_height(t[5]);
    left = (rw - w) / 2 - tw / 2 + (int)((r2 & 0xffffffff) % (uint64_t)tw);
    top = (rh - h) / 2 - pitch + (int)((r2 >> 32) % (uint64_t)(2 * pitch));
    if (vips_crop(t[5], out, MAX(0, left), MAX(0, top), w, h, NULL)) {
        img__vips_err(err, "cannot place the watermark");
        rc = IMG_EGENERIC;
    }
out:
    for (i = 0; i < 8; i++)
        if (t[i])
            g_object_unref(t[i]);
    return rc;
}

/* Burn the mask into in (3-band uchar, in memory): a blurred dark halo
 * around light letters, so the mark shows on white, black and mid-grey
 * alike. With m the letters and e the halo (0..1):
 * out = in * (1 - a_d e) * (1 - a_l m) + 255 a_l m. One pass in C over the
 * 800 px preview costs a fraction of a chain of libvips float operations. */
static int
watermark(VipsImage *in, const char *text, uint64_t seed, VipsImage **out,
          char *err)
{
    VipsImage *t[6] = {NULL};
    int w = vips_image_get_width(in), h = vips_image_get_height(in);
    int i, x, y, rc;

    rc = watermark_mask(w, h, text, seed, &t[0], err);
    if (rc != IMG_OK)
        goto out;
    /* Letters to memory first: the halo reads them again. */
    if (!(t[5] = vips_image_copy_memory(t[0])) ||
        vips_gaussblur(t[5], &t[1], 1.6, NULL) ||
        vips_bandjoin2(t[5], t[1], &t[2], NULL) ||
        !(t[3] = vips_image_copy_memory(t[2])) ||
        !(t[4] = vips_image_new_memory())) {
        img__vips_err(err, "cannot draw the watermark");
        rc = IMG_EGENERIC;
        goto out;
    }
    vips_image_init_fields(t[4], w, h, 3, VIPS_FORMAT_UCHAR, VIPS_CODING_NONE,
                           VIPS_INTERPRETATION_sRGB, 1.0, 1.0);
    if (vips_image_write_prepare(t[4])) {
        img__vips_err(err, "cannot allocate the preview");
        rc = IMG_EGENERIC;
        goto out;
    }
    for (y = 0; y < h; y++) {
        const VipsPel *p = VIPS_IMAGE_ADDR(in, 0, y);
        const VipsPel *m = VIPS_IMAGE_ADDR(t[3], 0, y);
        VipsPel *q = VIPS_IMAGE_ADDR(t[4], 0, y);

        for (x = 0; x < w; x++, p += 3, q += 3, m += 2) {
            /* The halo is amplified (x3, clipped) to reach past the
             * glyph edges. */
            float letters = m[0] * (ALPHA_LIGHT / 255.0f);
            float halo = MIN(255.0f, 3.0f * m[1]) * (ALPHA_DARK / 255.0f);
            float k = (1.0f - halo) * (1.0f - letters);
            float add = 255.0f * letters + 0.5f;

            for (i = 0; i < 3; i++)
                q[i] = (VipsPel)MIN(255.0f, p[i] * k + add);
        }
    }
    *out = t[4];
    t[4] = NULL;
out:
    for (i = 0; i < 6; i++)
        if (t[i])
            g_object_unref(t[i]);
    return rc;
}

/* Watermark base (3-band uchar sRGB, in memory) and save the preview JPEG
 * into *out. The deadline goes on watching through the save. */
static int
preview_save(VipsImage *base, const char *watermark_text, uint64_t seed,
             struct img__deadline *dl, struct img_buf *out, char *err)
{
    VipsImage *marked = NULL;
    struct img_buf buf = {NULL, 0};
    int rc;

    rc = watermark(base, watermark_text ? watermark_text : "", seed, &marked,
                   err);
    if (rc != IMG_OK)
        goto out;
    img__deadline_watch(dl, marked);
    if (vips_jpegsave_buffer(marked, &buf.data, &buf.len, "Q", PREVIEW_Q,
                             "strip", TRUE, NULL)) {
        img__vips_err(err, "cannot save the preview");
        rc = img__deadline_code(dl, IMG_EGENERIC, err);
        goto out;
    }
    *out = buf;
out:
    if (marked)
        g_object_unref(marked);
    return rc;
}

int
img_preview(const char *path, const char *watermark_text, uint64_t seed,
            int deadline_ms, struct img_buf *out, char err[IMG_ERR_LEN])
{
    struct img__source src = {0};
    struct img__deadline dl;
    VipsImage *decoded = NULL, *base = NULL;
    int rc;

    img__deadline_start(&dl, deadline_ms);
    rc = img__open(path, &src, err);
    if (rc != IMG_OK)
        goto out;
    /* The same decode as img_analyse's, so that a preview made from its
     * base and one made here are the same file. */
    rc = img__decode(path, &src, IMG_BASE_EDGE, &decoded, err);
    if (rc != IMG_OK)
        goto out;
    /* The decode happens here, into 1.9 MB at most. */
    img__deadline_watch(&dl, decoded);
    base = vips_image_copy_memory(decoded);
    if (!base) {
        img__vips_err(err, "cannot decode the image");
        rc = img__deadline_code(&dl, IMG_ECORRUPT, err);
        goto out;
    }
    rc = preview_save(base, watermark_text, seed, &dl, out, err);
out:
    if (base)
        g_object_unref(base);
    if (decoded)
        g_object_unref(decoded);
    if (src.header)
        g_object_unref(src.header);
    return rc;
}

int
img_preview_from_base(const void *base, size_t len, const char *watermark_text,
                      uint64_t seed, int deadline_ms, struct img_buf *out,
                      char err[IMG_ERR_LEN])
{
    struct img__deadline dl;
    VipsImage *im = NULL;
    int rc;

    img__deadline_start(&dl, deadline_ms);
    rc = img__base_open(base, len, &im, err);
    if (rc != IMG_OK)
        goto out;
    rc = preview_save(im, watermark_text, seed, &dl, out, err);
out:
    if (im)
        g_object_unref(im);
    return rc;
}

/* An XMP packet with the copyright notice and the licence id. */
static char *
licence_xmp(const char *copyright, const char *licence_id)
{
    return g_markup_printf_escaped(
        "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
        " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
        "  <rdf:Description rdf:about=\"\"\n"
        "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
        "    xmlns:xmpRights=\"http://ns.adobe.com/xap/1.0/rights/\"\n"
        "    xmlns:plus=\"http://ns.useplus.org/ldf/xmp/1.0/\">\n"
        "   <dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li>"
        "</rdf:Alt></dc:rights>\n"
        "   <xmpRights:Marked>True</xmpRights:Marked>\n"
        "   <plus:LicenseID>%s</plus:LicenseID>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        "<?xpacket end=\"w\"?>",
        copyright, licence_id);
}

/* A copy of in carrying no metadata but an sRGB profile, the copyright and
 * the licence id. jpegsave rebuilds EXIF from every "exif-*" field, so
 * every field goes, not just the blobs. */
static int
licence_metadata(VipsImage *in, const char *copyright, const char *licence_id,
                 VipsImage **out, char *err)
{
    VipsImage *copy = NULL;
    VipsBlob *srgb = NULL;
    gchar **fields = NULL;
    char *xmp = NULL, *desc = NULL;
    const void *icc;
    size_t icc_len;
    int i, rc = IMG_OK;

    if (vips_copy(in, &copy, NULL) || vips_profile_load("srgb", &srgb, NULL)) {
        img__vips_err(err, "cannot prepare the licensed file");
        rc = IMG_EGENERIC;
        goto out;
    }
    fields = vips_image_get_fields(copy);
    for (i = 0; fields[i]; i++)
        vips_image_remove(copy, fields[i]); /* header fields stay */
    icc = vips_blob_get(srgb, &icc_len);
    vips_image_set_blob_copy(copy, VIPS_META_ICC_NAME, icc, icc_len);
    xmp = licence_xmp(copyright, licence_id);
    vips_image_set_blob_copy(copy, VIPS_META_XMP_NAME, xmp, strlen(xmp));
    desc = g_strdup_printf("Licence %s", licence_id);
    vips_image_set_string(copy, "exif-ifd0-Copyright", copyright);
    vips_image_set_string(copy, "exif-ifd0-ImageDescription", desc);
    *out = copy;
    copy = NULL;
out:
    g_free(desc);
    g_free(xmp);
    g_strfreev(fields);
    if (srgb)
        vips_area_unref(VIPS_AREA(srgb));
    if (copy)
        g_object_unref(copy);
    return rc;
}

int
img_render(const char *path, int long_edge, const char *copyright,
           const char *licence_id, int deadline_ms, struct img_buf *out,
           char err[IMG_ERR_LEN])
{
    struct img__source src = {0};
    struct img__deadline dl;
    VipsImage *base = NULL, *tagged = NULL;
    struct img_buf buf = {NULL, 0};
    int rc;

    img__deadline_start(&dl, deadline_ms);
    rc = img__open(path, &src, err);
    if (rc != IMG_OK)
        goto out;
    /* size=down in img__decode never upscales; at the original size
     * thumbnail neither shrinks nor copies, it streams. */
    if (long_edge <= 0)
        long_edge = MAX(src.width, src.height);
    rc = img__decode(path, &src, long_edge, &base, err);
    if (rc != IMG_OK)
        goto out;
    rc = licence_metadata(base, copyright ? copyright : "",
                          licence_id ? licence_id : "", &tagged, err);
    if (rc != IMG_OK)
        goto out;
    img__deadline_watch(&dl, tagged);
    if (vips_jpegsave_buffer(tagged, &buf.data, &buf.len, "Q", RENDER_Q,
                             NULL)) {
        img__vips_err(err, "cannot make the licensed file");
        rc = img__deadline_code(&dl, IMG_ECORRUPT, err);
        goto out;
    }
    *out = buf;
out:
    if (tagged)
        g_object_unref(tagged);
    if (base)
        g_object_unref(base);
    if (src.header)
        g_object_unref(src.header);
    return rc;
}
