/* Stockroom imaging: camera, date, title and keywords from EXIF, XMP, IPTC.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "internal.h"

#define TITLE_MAX 200
#define DESCRIPTION_MAX 2000
#define KEYWORDS_MAX 50
#define KEYWORD_MAX 100

/* Keep at most cap bytes of valid UTF-8 with no control characters and no
 * surrounding blanks; commas become spaces when no_comma (keywords are
 * joined with commas). Returns a g_malloc'd string, or NULL when nothing
 * is left. */
static char *
clean_text(const char *src, size_t len, size_t cap, int no_comma)
{
    char *valid, *p, *start, *end;

    valid = g_utf8_make_valid(src, (gssize)len);
    for (p = valid; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || (no_comma && *p == ','))
            *p = ' ';
    start = valid;
    while (*start == ' ')
        start++;
    end = start + strlen(start);
    if ((size_t)(end - start) > cap) {
        /* Cut at a character boundary. */
        end = start + cap;
        while (end > start && ((unsigned char)*end & 0xc0) == 0x80)
            end--;
    }
    while (end > start && end[-1] == ' ')
        end--;
    *end = '\0';
    if (end == start) {
        g_free(valid);
        return NULL;
    }
    memmove(valid, start, (size_t)(end - start) + 1);
    return valid;
}

/* libvips renders an EXIF string as "VALUE (VALUE, ASCII, 6 components,
 * 6 bytes)": take the value back out. */
static void
exif_value(VipsImage *h, const char *field, char *dst, size_t cap)
{
    const char *s, *tag;
    size_t k, len;
    char *clean;

    dst[0] = '\0';
    if (!vips_image_get_typeof(h, field) ||
        vips_image_get_string(h, field, &s) != 0) {
        vips_error_clear();
        return;
    }
    tag = g_strrstr(s, ", ASCII, ");
    len = strlen(s);
    if (tag && (size_t)(tag - s) >= 2 && (tag - s - 2) % 2 == 0) {
        k = (size_t)(tag - s - 2) / 2;
        if (s[k] == ' ' && s[k + 1] == '(' && memcmp(s, s + k + 2, k) == 0)
            len = k;
    } else if (strstr(s, " (")) {
        len = (size_t)(strstr(s, " (") - s);
    }
    clean = clean_text(s, len, cap - 1, 0);
    if (clean)
        g_strlcpy(dst, clean, cap);
    g_free(clean);
}

/* "2019:05:04 10:22:01" to "2019-05-04T10:22:01"; "" unless exactly so. */
static void
exif_date(VipsImage *h, char *dst, size_t cap)
{
    static const char pattern[] = "dddd:dd:dd dd:dd:dd";
    char raw[32];
    size_t i;

    exif_value(h, "exif-ifd2-DateTimeOriginal", raw, sizeof raw);
    dst[0] = '\0';
    if (strlen(raw) != sizeof pattern - 1 || cap < sizeof pattern)
        return;
    for (i = 0; i < sizeof pattern - 1; i++)
        if (pattern[i] == 'd' ? !g_ascii_isdigit(raw[i]) : raw[i] != pattern[i])
            return;
    raw[4] = '-';
    raw[7] = '-';
    raw[10] = 'T';
    if (strcmp(raw, "0000-00-00T00:00:00") != 0)
        g_strlcpy(dst, raw, cap);
}

/* Fields collected from XMP or IPTC before they are cleaned. */
struct texts {
    char *title;
    char *description;
    GPtrArray *keywords; /* of g_malloc'd, cleaned strings */
};

static void
add_keyword(struct texts *t, const char *s, size_t len)
{
    char *k;

    if (t->keywords->len >= KEYWORDS_MAX)
        return;
    k = clean_text(s, len, KEYWORD_MAX, 1);
    if (k)
        g_ptr_array_add(t->keywords, k);
}

/* IPTC IIM datasets: 0x1C, record, dataset, 2-byte length, data. */
static void
iim_parse(const unsigned char *p, size_t n, struct texts *t)
{
    size_t pos = 0, len;
    unsigned rec, ds;

    while (pos + 5 <= n && p[pos] == 0x1c) {
        rec = p[pos + 1];
        ds = p[pos + 2];
        len = (size_t)p[pos + 3] << 8 | p[pos + 4];
        pos += 5;
        /* Extended lengths (top bit) only serve huge binary datasets. */
        if (len & 0x8000 || len > n - pos)
            return;
        if (rec == 2 && ds == 5 && !t->title)
            t->title = clean_text((const char *)p + pos, len, TITLE_MAX, 0);
        else if (rec == 2 && ds == 120 && !t->description)
            t->description =
                clean_text((const char *)p + pos, len, DESCRIPTION_MAX, 0);
        else if (rec == 2 && ds == 25)
            add_keyword(t, (const char *)p + pos, len);
        pos += len;
    }
}

/* iptc-data is the APP13 Photoshop block (8BIM resources, IPTC in
 * resource 0x0404) or raw IIM. */
static void
iptc_parse(const unsigned char *p, size_t n, struct texts *t)
{
    static const char ps[] = "Photoshop 3.0";
    size_t pos, hdr, data, size;

    if (n > 0 && p[0] == 0x1c) {
        iim_parse(p, n, t);
        return;
    }
    if (n < sizeof ps || memcmp(p, ps, sizeof ps) != 0)
        return;
    pos = sizeof ps;
    while (n - pos >= 12 && memcmp(p + pos, "8BIM", 4) == 0) {
        /* "8BIM", 2-byte id, Pascal name padded to even, 4-byte size. */
        hdr = 6 + (((size_t)p[pos + 6] + 2) & ~(size_t)1);
        if (hdr + 4 > n - pos)
            return;
        size = (size_t)p[pos + hdr] << 24 | (size_t)p[pos + hdr + 1] << 16 |
               (size_t)p[pos + hdr + 2] << 8 | p[pos + hdr + 3];
        data = pos + hdr + 4;
        if (size > n - data)
            return;
        if (p[pos + 4] == 0x04 && p[pos + 5] == 0x04)
            iim_parse(p + data, size, t);
        pos = data + size + size % 2;
        if (pos > n)
            return;
    }
}

static const char *
find(const char *p, const char *end, const char *s)
{
    return end > p ? memmem(p, (size_t)(end - p), s, strlen(s)) : NULL;
}

/* The content of the first <name ...>...</name> element in [p, end). */
static int
element(const char *p, const char *end, const char *name, const char **in,
        const char **in_end)
{
    char open[64], close[64];
    const char *q, *gt;
    size_t len;

    snprintf(open, sizeof open, "<%s", name);
    snprintf(close, sizeof close, "</%s>", name);
    len = strlen(open);
    for (q = find(p, end, open); q; q = find(q + 1, end, open)) {
        /* "<dc:title" must not match "<dc:titles". */
        if (q + len < end && (q[len] == '>' || g_ascii_isspace(q[len])))
            break;
    }
    if (!q)
        return 0;
    gt = memchr(q, '>', (size_t)(end - q));
    if (!gt || gt[-1] == '/')
        return 0;
    *in = gt + 1;
    *in_end = find(*in, end, close);
    return *in_end != NULL;
}

/* XML character data to UTF-8: the five entities and character refs. */
static GString *
xml_unescape(const char *p, const char *end)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'},
                {"&lt;", '<'},
                {"&gt;", '>'},
                {"&quot;", '"'},
                {"&apos;", '\''}};
    GString *s = g_string_sized_new((gsize)(end - p));
    size_t i;

    while (p < end) {
        int done = 0;

        if (*p != '&') {
            g_string_append_c(s, *p++);
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(ents) && !done; i++) {
            size_t len = strlen(ents[i].ent);

            if ((size_t)(end - p) >= len && memcmp(p, ents[i].ent, len) == 0) {
                g_string_append_c(s, ents[i].c);
                p += len;
                done = 1;
            }
        }
        if (!done && end - p > 3 && p[1] == '#') {
            const char *semi = memchr(p, ';', (size_t)(end - p));
            int hex = p[2] == 'x' || p[2] == 'X';
            gchar *stop;
            guint64 c;

            if (semi && semi - p <= 12) {
                c = g_ascii_strtoull(p + 2 + hex, &stop, hex ? 16 : 10);
                if (stop == semi && c > 0 && c <= 0x10ffff) {
                    g_string_append_unichar(s, (gunichar)c);
                    p = semi + 1;
                    done = 1;
                }
            }
        }
        if (!done)
            g_string_append_c(s, *p++);
    }
    return s;
}

/* The text of each <rdf:li> in [p, end), x-default first for titles. */
static char *
xmp_alt(const char *p, const char *end, size_t cap)
{
    const char *in, *in_end, *li;
    GString *s;
    char *text;

    if (!element(p, end, "rdf:li", &in, &in_end))
        return NULL;
    /* Prefer the x-default entry of a language alternative. */
    li = find(p, end, "xml:lang=\"x-default\"");
    if (!li)
        li = find(p, end, "xml:lang='x-default'");
    if (li) {
        const char *gt = memchr(li, '>', (size_t)(end - li));
        const char *close = gt ? find(gt, end, "</rdf:li>") : NULL;

        if (close) {
            in = gt + 1;
            in_end = close;
        }
    }
    s = xml_unescape(in, in_end);
    text = clean_text(s->str, s->len, cap, 0);
    g_string_free(s, TRUE);
    /* Some writers store the language tag itself as the text. */
    if (text && strcmp(text, "x-default") == 0) {
        g_free(text);
        text = NULL;
    }
    return text;
}

static void
xmp_parse(const char *p, size_t n, struct texts *t)
{
    const char *end = p + n, *in, *in_end, *li, *li_end;
    GString *s;

    if (element(p, end, "dc:title", &in, &in_end))
        t->title = xmp_alt(in, in_end, TITLE_MAX);
    if (element(p, end, "dc:description", &in, &in_end))
        t->description = xmp_alt(in, in_end, DESCRIPTION_MAX);
    if (!element(p, end, "dc:subject", &in, &in_end))
        return;
    while (element(in, in_end, "rdf:li", &li, &li_end)) {
        s = xml_unescape(li, li_end);
        add_keyword(t, s->str, s->len);
        g_string_free(s, TRUE);
        in = li_end + strlen("</rdf:li>");
    }
}

static const void *
blob(VipsImage *h, const char *field, size_t *len)
{
    const void *data;

    if (!vips_image_get_typeof(h, field) ||
        vips_image_get_blob(h, field, &data, len) != 0) {
        vips_error_clear();
        return NULL;
    }
    return data;
}

void
img__meta_read(VipsImage *h, struct img_analysis *a)
{
    struct texts xmp = {NULL, NULL, g_ptr_array_new_with_free_func(g_free)};
    struct texts iptc = {NULL, NULL, g_ptr_array_new_with_free_func(g_free)};
    struct texts *kw;
    const void *data;
    size_t len, i;
    GString *joined;

    exif_value(h, "exif-ifd0-Make", a->camera_make, sizeof a->camera_make);
    exif_value(h, "exif-ifd0-Model", a->camera_model, sizeof a->camera_model);
    exif_date(h, a->date_taken, sizeof a->date_taken);

    data = blob(h, VIPS_META_XMP_NAME, &len);
    if (data)
        xmp_parse(data, len, &xmp);
    data = blob(h, VIPS_META_IPTC_NAME, &len);
    if (data)
        iptc_parse(data, len, &iptc);

    /* XMP is Unicode and what current tools write; IPTC fills the gaps. */
    a->title = xmp.title ? xmp.title : g_steal_pointer(&iptc.title);
    a->description =
        xmp.description ? xmp.description : g_steal_pointer(&iptc.description);
    kw = xmp.keywords->len ? &xmp : &iptc;
    if (kw->keywords->len) {
        joined = g_string_new(NULL);
        for (i = 0; i < kw->keywords->len; i++) {
            if (i)
                g_string_append_c(joined, ',');
            g_string_append(joined, g_ptr_array_index(kw->keywords, i));
        }
        a->keywords = g_string_free(joined, FALSE);
    }
    g_free(iptc.title);
    g_free(iptc.description);
    g_ptr_array_free(xmp.keywords, TRUE);
    g_ptr_array_free(iptc.keywords, TRUE);
}
