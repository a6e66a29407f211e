/* Stockroom — what a buyer finds: search ranking, stemming, prefixes and
 * phrases, every filter and sort, cursor paging (also while images are being
 * approved), hostile query text, bad parameters, who sees unpublished images,
 * the image page, view counts and contributor profiles.
 *
 * One server and one small catalogue for the whole file: a contributor
 * ("carl") uploads a dozen small corpus photos with titles and keywords
 * chosen so that each assertion has one right answer, a second contributor
 * ("dora") uploads one, and an admin approves most, rejects one and leaves
 * some pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define PROCESS_MS 120000 /* every upload processed, sanitizer build */
#define VIEWS_MS 20000    /* views are flushed every ~5 s */
#define RAW_MS 20000

static struct th_server srv;
static char scratch[256]; /* unique copies of corpus files */
static char carl[128], dora[128], buyer[128], admin[128], reviewer[128];
static char carl_id[64], dora_id[64];

enum fate { APPROVE, REJECT, PENDING, LATE };

/* The catalogue. Every approved image of carl's has the keyword "photo",
 * so q=photo matches them all (paging by relevance) and every image has
 * more than 12 others sharing a keyword (the cap on "similar"). Only
 * FLOWER has "bicycle" as a keyword, only LANE mentions it in its
 * description; the rejected and the pending image have it as a keyword too,
 * so a leak of either would show in q=bicycle. */
enum {
    FLOWER,
    LANE,
    HOPPER,
    SAMPLE,
    ASTRO,
    CAMERA,
    WATER,
    ROCKET,
    CAT,
    HARBOUR,
    COPY1,
    COPY2,
    COPY3,
    COPY4,
    SQUAREISH,
    REJECTED,
    PENDING_IMG,
    LATE1,
    LATE2,
    LATE3,
    N_IMG
};

struct img {
    const char *file; /* under the corpus's real/; NULL: made */
    const char *tag;  /* non-NULL: upload a byte-unique copy */
    const char *title, *desc, *keywords;
    int dora; /* 1: dora's, else carl's */
    enum fate fate;
    char id[64];
    int approved;
};

static struct img imgs[N_IMG] = {
    [FLOWER] = {"28-pillow-flower.jpg", NULL, "Garden flower",
                "Petals in the sun.", " Bicycle,  Garden , summer, photo", 0,
                APPROVE, "", 0},
    [LANE] = {"30-goexif-sample1.jpg", NULL, "Country lane",
              "An old bicycle leaning on a fence by the lane.",
              "lane, countryside, photo", 0, APPROVE, "", 0},
    [HOPPER] = {"33-mpl-grace_hopper.jpg", NULL, "Portrait of an admiral",
                "Navy officer in uniform.", "admiral, navy, photo", 0, APPROVE,
                "", 0},
    [SAMPLE] = {"36-vips-sample.jpg", NULL, "Sample portrait",
                "A woman in a hat.", "hat, woman, photo", 0, APPROVE, "", 0},
    [ASTRO] = {"60-skimage-astronaut.png", NULL, "Astronaut",
               "Astronaut in a suit, with a flag.", "astronaut, space, photo",
               0, APPROVE, "", 0},
    [CAMERA] = {"61-skimage-camera.png", NULL, "Cameraman",
                "A man with a tripod.", "tripod, monochrome, photo", 0, APPROVE,
                "", 0},
    [WATER] = {"17-plasma-BytheWater-2560x1600.jpg", NULL, "By the water",
               "Evening light on a lake.", "water, lake, evening, photo", 0,
               APPROVE, "", 0},
    [ROCKET] = {"34-skimage-rocket.jpg", NULL, "Rocket launch",
                "A rocket on its launch pad.", "rocket, space, photo", 0,
                APPROVE, "", 0},
    [CAT] = {"59-skimage-chelsea.png", NULL, "Tabby cat",
             "A cat looking sideways.", "cat, tabby, pet, photo", 0, APPROVE,
             "", 0},
    [HARBOUR] = {"66-vips-1.webp", NULL, "Harbour boats", "Boats in a harbour.",
                 "harbour, boats, photo", 1, APPROVE, "", 0},
    [COPY1] = {"36-vips-sample.jpg", "copy1", "Hat copy one", "Same hat.",
               "hat, photo", 0, APPROVE, "", 0},
    [COPY2] = {"36-vips-sample.jpg", "copy2", "Hat copy two", "Same hat.",
               "hat, photo", 0, APPROVE, "", 0},
    [COPY3] = {"36-vips-sample.jpg", "copy3", "Hat copy three", "Same hat.",
               "hat, photo", 0, APPROVE, "", 0},
    [COPY4] = {"36-vips-sample.jpg", "copy4", "Hat copy four", "Same hat.",
               "hat, photo", 0, APPROVE, "", 0},
    /* 300 x 296: square by the search filter's 2 % rule. */
    [SQUAREISH] = {NULL, "squareish", "Almost square tile", "A grey gradient.",
                   "tile, gradient, photo", 0, APPROVE, "", 0},
    [REJECTED] = {"68-rust-tiff-kodim02-lzw.tif", NULL, "Rejected bicycle",
                  "A bicycle shop window.", "bicycle, shop, photo", 0, REJECT,
                  "", 0},
    [PENDING_IMG] = {"57-goximage-yellow_rose.png", NULL,
                     "Pending bicycle rose", "A rose on a bicycle.",
                     "bicycle, rose, photo", 0, PENDING, "", 0},
    [LATE1] = {"29-pillow-iptc.jpg", NULL, "Late one", "Approved late.",
               "late, photo", 0, LATE, "", 0},
    [LATE2] = {"50-ljt-testimgari.jpg", NULL, "Late two", "Approved late.",
               "late, photo", 0, LATE, "", 0},
    [LATE3] = {"58-pillow-hopper_wal.png", NULL, "Late three", "Approved late.",
               "late, photo", 0, LATE, "", 0},
};

static const char *const flags[] = {"--min-megapixels", "0.0001", "--workers",
                                    "2", NULL};

/* ---- requests --------------------------------------------------------- */

/* Percent-encode every byte but the unreserved ones. */
static void
enc(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* GET /api/v1/images?query anonymously, expecting 200: the JSON. */
static json_t *
search(const char *query)
{
    char path[2600];

    snprintf(path, sizeof path, "/api/v1/images?%s", query);
    return kit_want("GET", path, NULL, NULL, 200, NULL);
}

/* Search with q (plain text, encoded here) and more parameters. */
static json_t *
search_q(const char *q, const char *more)
{
    char e[1024], query[1400];

    enc(q, strlen(q), e, sizeof e);
    snprintf(query, sizeof query, "q=%s%s%s", e, more ? "&" : "",
             more ? more : "");
    return search(query);
}

static json_t *
items(json_t *page)
{
    json_t *a = json_object_get(page, "items");

    if (!json_is_array(a))
        fail_msg("no items array");
    return a;
}

/* Position of id in a list of items, or -1. */
static int
pos_of(json_t *list, const char *id)
{
    size_t i;
    json_t *it;

    json_array_foreach(list, i, it)
    {
        if (!strcmp(kit_jstr_or(it, "id"), id))
            return (int)i;
    }
    return -1;
}

/* Which of our images an id is, or -1. */
static int
which(const char *id)
{
    for (int k = 0; k < N_IMG; k++)
        if (!strcmp(imgs[k].id, id))
            return k;
    return -1;
}

/* The items of page, as our image names, for messages. */
static const char *
names(json_t *list, char *buf, size_t len)
{
    size_t i, o = 0;
    json_t *it;

    buf[0] = '\0';
    json_array_foreach(list, i, it)
    {
        int k = which(kit_jstr_or(it, "id"));

        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s'%s'",
                              i ? ", " : "",
                              k >= 0 ? imgs[k].title : kit_jstr_or(it, "id"));
        if (o >= len)
            break;
    }
    return buf;
}

/* The set of ids in list is exactly the images in want (n of them). */
static void
assert_exactly(json_t *list, const int *want, int n, const char *what)
{
    char buf[1024];

    if ((int)json_array_size(list) != n)
        fail_msg("%s: %zu items (%s), expected %d", what, json_array_size(list),
                 names(list, buf, sizeof buf), n);
    for (int i = 0; i < n; i++)
        if (pos_of(list, imgs[want[i]].id) < 0)
            fail_msg("%s: '%s' missing from %s", what, imgs[want[i]].title,
                     names(list, buf, sizeof buf));
}

static void
approve(int k)
{
    kit_approve(imgs[k].dora ? dora : carl, admin, imgs[k].id);
    imgs[k].approved = 1;
}

static int
n_approved(void)
{
    int n = 0;

    for (int k = 0; k < N_IMG; k++)
        n += imgs[k].approved;
    return n;
}

/* ---- setup ------------------------------------------------------------ */

/* A copy of src with tag appended: the same pixels under another SHA-256,
 * so one corpus file can be uploaded several times without a 409. */
static void
unique_copy(const char *src, const char *tag, char *dst, size_t len)
{
    FILE *in = fopen(src, "rb"), *out;
    char buf[65536];
    size_t n;

    snprintf(dst, len, "%s/%s.jpg", scratch, tag);
    out = fopen(dst, "wb");
    if (!in || !out)
        fail_msg("copy %s to %s", src, dst);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            fail_msg("write %s", dst);
    fprintf(out, "\n%s\n", tag);
    fclose(in);
    if (fclose(out) != 0)
        fail_msg("write %s", dst);
}

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t
crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void
chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char *buf = malloc(n + 8);

    assert_non_null(buf);
    put32(buf, (uint32_t)n);
    memcpy(buf + 4, type, 4);
    if (n)
        memcpy(buf + 8, data, n);
    fwrite(buf, 1, n + 8, f);
    put32(buf, crc32_of(buf + 4, n + 4));
    fwrite(buf, 1, 4, f);
    free(buf);
}

/* A w x h 8-bit grey PNG of a gradient, with stored (uncompressed) deflate
 * blocks: a shape the corpus lacks, made without an image library. */
static void
write_png(const char *path, int w, int h)
{
    static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
                                         '\r', '\n', 0x1a, '\n'};
    size_t raw_len = (size_t)(w + 1) * (size_t)h, o = 0;
    unsigned char *raw = malloc(raw_len), *z, ihdr[13] = {0};
    uint32_t a = 1, b = 0;
    FILE *f = fopen(path, "wb");

    assert_non_null(raw);
    assert_non_null(f);
    for (int y = 0; y < h; y++) {
        raw[o++] = 0;
        for (int x = 0; x < w; x++)
            raw[o++] = (unsigned char)((x * 255 / w + y * 3) & 0xff);
    }
    z = malloc(raw_len + raw_len / 65535 * 5 + 16);
    assert_non_null(z);
    o = 0;
    z[o++] = 0x78;
    z[o++] = 0x01;
    for (size_t at = 0; at < raw_len;) {
        size_t n = raw_len - at > 65535 ? 65535 : raw_len - at;

        z[o++] = at + n == raw_len;
        z[o++] = (unsigned char)n;
        z[o++] = (unsigned char)(n >> 8);
        z[o++] = (unsigned char)~n;
        z[o++] = (unsigned char)(~n >> 8);
        memcpy(z + o, raw + at, n);
        o += n;
        at += n;
    }
    for (size_t i = 0; i < raw_len; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    put32(z + o, b << 16 | a);
    o += 4;
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bit depth; colour type 0: grey */
    fwrite(sig, 1, 8, f);
    chunk(f, "IHDR", ihdr, 13);
    chunk(f, "IDAT", z, o);
    chunk(f, "IEND", NULL, 0);
    fclose(f);
    free(raw);
    free(z);
}

static void
upload(int k)
{
    struct img *m = &imgs[k];
    char src[512], path[512];
    const char *fields[] = {"title",    m->title,    "description", m->desc,
                            "keywords", m->keywords, NULL};
    struct th_resp r;

    snprintf(path, sizeof path, "real/%s", m->file ? m->file : "");
    th_corpus(path, src, sizeof src);
    if (!m->file) {
        snprintf(path, sizeof path, "%s/%s.png", scratch, m->tag);
        write_png(path, 300, 296);
    } else if (m->tag)
        unique_copy(src, m->tag, path, sizeof path);
    else
        snprintf(path, sizeof path, "%s", src);
    if (th_upload(&srv, "/api/v1/images", m->dora ? dora : carl, path, NULL,
                  fields, &r) < 0)
        fail_msg("upload %s: no answer", path);
    if (r.status != 202)
        fail_msg("upload %s: %ld %s", path, r.status, r.body);
    snprintf(m->id, sizeof m->id, "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
}

/* Every upload has left 'processing' (as its owner sees it). */
static int
all_processed(void *arg)
{
    int *left = arg;

    *left = 0;
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        struct th_resp r;
        int busy;

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
        if (kit_try("GET", path, imgs[k].dora ? dora : carl, NULL, NULL, &r) <
            0)
            return 0;
        busy = r.status == 200 &&
               !strcmp(kit_jstr_or(r.json, "status"), "processing");
        th_resp_free(&r);
        *left += busy;
        if (busy)
            return 0;
    }
    return 1;
}

static int
setup(void **state)
{
    int left = 0;

    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/stockroom-search-XXXXXX");
    if (!mkdtemp(scratch) || th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    th_new_user(&srv, "carl", carl);
    th_new_user(&srv, "dora", dora);
    th_new_user(&srv, "buyer", buyer);
    kit_staff("admin", "admin", admin);
    kit_staff("reviewer", "reviewer", reviewer);
    kit_my_id(carl, carl_id);
    kit_my_id(dora, dora_id);
    /* Sequential uploads, so seq follows the enum; approvals in the same
     * order, so newest-first is exactly the reverse of the enum. */
    for (int k = 0; k < N_IMG; k++)
        upload(k);
    if (!th_poll(all_processed, &left, PROCESS_MS)) {
        fprintf(stderr, "uploads still processing after %d ms\n", PROCESS_MS);
        return -1;
    }
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        json_t *j;

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
        j = kit_want("GET", path, imgs[k].dora ? dora : carl, NULL, 200, NULL);
        if (strcmp(kit_jstr_or(j, "status"), "pending_review") != 0) {
            fprintf(stderr, "%s: status %s, expected pending_review (%s)\n",
                    imgs[k].title, kit_jstr_or(j, "status"),
                    kit_jstr_or(j, "fail_reason"));
            json_decref(j);
            return -1;
        }
        json_decref(j);
    }
    for (int k = 0; k < N_IMG; k++) {
        if (imgs[k].fate == APPROVE) {
            approve(k);
        } else if (imgs[k].fate == REJECT) {
            char path[128];

            snprintf(path, sizeof path, "/api/v1/images/%s/review", imgs[k].id);
            json_decref(kit_want(
                "POST", path, admin,
                "{\"decision\":\"reject\","
                "\"reason_code\":\"poor_quality\",\"reason\":\"Blurred.\"}",
                200, NULL));
        }
    }
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}

/* ---- text ------------------------------------------------------------- */

/* A keyword match outweighs a description match (keywords 4, description
 * 1), and relevance is the default order whenever there is text: newest
 * would put LANE (approved later) first. */
static void
test_ranking_keyword_beats_description(void **state)
{
    int both[] = {FLOWER, LANE};
    json_t *p, *rel, *newest;
    char buf[512];

    (void)state;
    p = search("q=bicycle");
    assert_exactly(items(p), both, 2, "q=bicycle");
    {
        struct th_resp r;

        kit_call("GET", "/api/v1/images?q=bicycle", NULL, NULL, NULL, &r);
        tu_assert_security_headers(&r, "search");
        th_resp_free(&r);
    }
    if (pos_of(items(p), imgs[FLOWER].id) > pos_of(items(p), imgs[LANE].id))
        fail_msg("q=bicycle ranks the description match first: %s",
                 names(items(p), buf, sizeof buf));
    rel = search("q=bicycle&sort=relevance");
    assert_true(json_equal(items(p), items(rel)));
    newest = search("q=bicycle&sort=newest");
    assert_exactly(items(newest), both, 2, "q=bicycle&sort=newest");
    assert_string_equal(kit_jstr_or(json_array_get(items(newest), 0), "id"),
                        imgs[LANE].id);
    json_decref(p);
    json_decref(rel);
    json_decref(newest);
}

/* Words are stemmed: a plural or another form finds the word. */
static void
test_stemming(void **state)
{
    int bikes[] = {FLOWER, LANE};
    int cat[] = {CAT};
    json_t *p;

    (void)state;
    p = search("q=bicycles");
    assert_exactly(items(p), bikes, 2, "q=bicycles");
    json_decref(p);
    p = search("q=Bicycling");
    assert_exactly(items(p), bikes, 2, "q=Bicycling");
    json_decref(p);
    p = search("q=cats");
    assert_exactly(items(p), cat, 1, "q=cats");
    json_decref(p);
}

/* The last word also matches as a prefix, as typed; an earlier word does
 * not (the user has finished typing it). */
static void
test_prefix_of_last_word(void **state)
{
    int bikes[] = {FLOWER, LANE};
    int flower[] = {FLOWER};
    int astro[] = {ASTRO};
    json_t *p;

    (void)state;
    p = search("q=bicy");
    assert_exactly(items(p), bikes, 2, "q=bicy");
    json_decref(p);
    p = search("q=garden+bicy");
    assert_exactly(items(p), flower, 1, "q=garden bicy");
    json_decref(p);
    p = search("q=astron");
    assert_exactly(items(p), astro, 1, "q=astron");
    json_decref(p);
    p = search("q=bicy+garden");
    assert_exactly(items(p), NULL, 0, "q=bicy garden (prefix not last)");
    json_decref(p);
}

/* A quoted phrase must appear as written; the same words unquoted need
 * only appear. */
static void
test_quoted_phrase(void **state)
{
    int lane[] = {LANE};
    json_t *p;

    (void)state;
    p = search_q("\"leaning on a fence\"", NULL);
    assert_exactly(items(p), lane, 1, "phrase in order");
    json_decref(p);
    p = search_q("fence leaning", NULL);
    assert_exactly(items(p), lane, 1, "words unquoted");
    json_decref(p);
    p = search_q("\"fence leaning\"", NULL);
    assert_exactly(items(p), NULL, 0, "phrase out of order");
    json_decref(p);
}

/* ---- filters ---------------------------------------------------------- */

/* Every item satisfies pred; want[] are in, not[] are out. */
static void
check_filter(const char *query, int (*pred)(json_t *), const int *want,
             int nwant, const int * not, int nnot)
{
    json_t *p = search(query), *it;
    size_t i;
    char buf[1024];

    json_array_foreach(items(p), i, it)
    {
        if (!pred(it))
            fail_msg("%s lists '%s' (%lldx%lld, %s)", query,
                     kit_jstr_or(it, "title"),
                     json_integer_value(json_object_get(it, "width")),
                     json_integer_value(json_object_get(it, "height")),
                     kit_jstr_or(it, "colour"));
        if (which(kit_jstr_or(it, "id")) < 0 ||
            !imgs[which(kit_jstr_or(it, "id"))].approved)
            fail_msg("%s lists '%s', which is not approved", query,
                     kit_jstr_or(it, "title"));
    }
    for (int k = 0; k < nwant; k++)
        if (pos_of(items(p), imgs[want[k]].id) < 0)
            fail_msg("%s misses '%s': %s", query, imgs[want[k]].title,
                     names(items(p), buf, sizeof buf));
    for (int k = 0; k < nnot; k++)
        if (pos_of(items(p), imgs[not [k]].id) >= 0)
            fail_msg("%s lists '%s'", query, imgs[not [k]].title);
    json_decref(p);
}

static long long
W(json_t *it)
{
    return json_integer_value(json_object_get(it, "width"));
}

static long long
H(json_t *it)
{
    return json_integer_value(json_object_get(it, "height"));
}

static int
is_landscape(json_t *it)
{
    return W(it) > H(it);
}

static int
is_portrait(json_t *it)
{
    return H(it) > W(it);
}

/* Square within 2 % either way (docs/CATALOG.md). */
static int
is_square(json_t *it)
{
    long long d = W(it) > H(it) ? W(it) - H(it) : H(it) - W(it);

    return d * 50 <= (W(it) > H(it) ? W(it) : H(it));
}

static int
at_least_1mp(json_t *it)
{
    return W(it) * H(it) >= 1000000;
}

static int
any(json_t *it)
{
    (void)it;
    return 1;
}

static void
test_filter_orientation(void **state)
{
    int land[] = {FLOWER, LANE, WATER, ROCKET, CAT, HARBOUR};
    int port[] = {HOPPER, SAMPLE, COPY1};
    int sq[] = {ASTRO, CAMERA};
    int astro[] = {ASTRO};
    json_t *p;

    (void)state;
    check_filter("orientation=landscape&limit=100", is_landscape, land, 6, port,
                 3);
    check_filter("orientation=landscape&limit=100", is_landscape, land, 6, sq,
                 2);
    check_filter("orientation=portrait&limit=100", is_portrait, port, 3, land,
                 6);
    check_filter("orientation=portrait&limit=100", is_portrait, port, 3, sq, 2);
    check_filter("orientation=square&limit=100", is_square, sq, 2, land, 6);
    check_filter("orientation=square&limit=100", is_square, sq, 2, port, 3);
    /* A filter narrows a text search too: ROCKET also has "space". */
    p = search("q=space&orientation=square");
    assert_exactly(items(p), astro, 1, "q=space&orientation=square");
    json_decref(p);
}

/* The orientation an image page states is the filter that finds it: the
 * three filters split the catalogue, and each image sits under the one its
 * page names. SQUAREISH (300 x 296) is where a strict w > h and the
 * filter's 2 % rule part ways. */
/* What an image's own JSON says, from its owner's list (the same JSON as
 * its page, without counting a view): key of the field for image k. */
static void
own_field(int k, const char *key, char *out, size_t len)
{
    json_t *mine = kit_want("GET", "/api/v1/me/images?limit=100",
                            imgs[k].dora ? dora : carl, NULL, 200, NULL);
    json_t *it;
    size_t i;

    out[0] = '\0';
    json_array_foreach(json_object_get(mine, "items"), i,
                       it) if (!strcmp(kit_jstr_or(it, "id"), imgs[k].id))
        snprintf(out, len, "%s", kit_jstr_or(it, key));
    json_decref(mine);
}

static void
test_orientation_page_agrees_with_filter(void **state)
{
    static const char *const orient[] = {"landscape", "portrait", "square"};
    int found[N_IMG] = {0};

    (void)state;
    for (int o = 0; o < 3; o++) {
        char query[64], said[32];
        json_t *p, *it;
        size_t i;

        snprintf(query, sizeof query, "orientation=%s&limit=100", orient[o]);
        p = search(query);
        json_array_foreach(items(p), i, it)
        {
            int k = which(kit_jstr_or(it, "id"));

            assert_true(k >= 0);
            found[k]++;
            own_field(k, "orientation", said, sizeof said);
            if (strcmp(said, orient[o]) != 0)
                fail_msg("'%s' (%lldx%lld) is listed under orientation=%s "
                         "but its page says \"%s\"",
                         imgs[k].title, W(it), H(it), orient[o], said);
        }
        json_decref(p);
    }
    for (int k = 0; k < N_IMG; k++)
        if (imgs[k].approved && found[k] != 1)
            fail_msg("'%s' is under %d orientations", imgs[k].title, found[k]);
}

static void
test_filter_min_megapixels(void **state)
{
    int water[] = {WATER};
    int small[] = {FLOWER, ASTRO, CAT};

    (void)state;
    check_filter("min_megapixels=1&limit=100", at_least_1mp, water, 1, small,
                 3);
    /* 2560 x 1600 is exactly 4.096 MP: the minimum is inclusive. */
    check_filter("min_megapixels=4.096&limit=100", at_least_1mp, water, 1,
                 small, 3);
    check_filter("min_megapixels=4.1&limit=100", any, NULL, 0, water, 1);
    check_filter("min_megapixels=0&limit=100", any, small, 3, NULL, 0);
}

static const char *want_colour;

static int
has_colour(json_t *it)
{
    return !strcmp(kit_jstr_or(it, "colour"), want_colour);
}

static const char *const palette[] = {
    "red",    "orange", "yellow", "green", "teal",  "blue",
    "purple", "pink",   "brown",  "black", "white", "grey",
};

/* Filter by the colour the store itself gave an image, read from its page,
 * and show that an image of another colour is left out. */
static void
test_filter_colour(void **state)
{
    static const int subjects[] = {ASTRO, CAMERA, WATER};
    json_t *all, *it;
    size_t i;

    (void)state;
    /* Every colour is one of the documented palette. */
    all = search("limit=100");
    json_array_foreach(items(all), i, it)
    {
        size_t c;

        for (c = 0; c < sizeof palette / sizeof palette[0]; c++)
            if (!strcmp(kit_jstr_or(it, "colour"), palette[c]))
                break;
        if (c == sizeof palette / sizeof palette[0])
            fail_msg("'%s' has colour \"%s\", not in the palette",
                     kit_jstr_or(it, "title"), kit_jstr_or(it, "colour"));
    }
    json_decref(all);
    for (size_t s = 0; s < sizeof subjects / sizeof subjects[0]; s++) {
        int k = subjects[s], other = -1;
        char path[128], query[160], colour[64];
        json_t *j = NULL;

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(colour, sizeof colour, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        if (!colour[0])
            fail_msg("'%s' has no colour", imgs[k].title);
        all = search("limit=100");
        json_array_foreach(items(all), i, it)
        {
            if (strcmp(kit_jstr_or(it, "colour"), colour) != 0)
                other = which(kit_jstr_or(it, "id"));
            /* The listing says the same colour as the page. */
            if (!strcmp(kit_jstr_or(it, "id"), imgs[k].id))
                assert_string_equal(kit_jstr_or(it, "colour"), colour);
        }
        json_decref(all);
        want_colour = colour;
        snprintf(query, sizeof query, "colour=%s&limit=100", colour);
        check_filter(query, has_colour, &k, 1, other >= 0 ? &other : NULL,
                     other >= 0);
    }
    /* Two images that differ: the colour filter must be able to tell. */
    {
        char a[64], b[64], path[128];
        json_t *j;

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[CAMERA].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(a, sizeof a, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[WATER].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(b, sizeof b, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        if (!strcmp(a, b))
            fail_msg("a grey cameraman and a lake at dusk are both '%s'", a);
    }
}

static void
test_filter_contributor(void **state)
{
    int harbour[] = {HARBOUR};
    char query[160];
    json_t *p, *it;
    size_t i;

    (void)state;
    snprintf(query, sizeof query, "contributor=%s", dora_id);
    p = search(query);
    assert_exactly(items(p), harbour, 1, "contributor=dora");
    json_decref(p);
    snprintf(query, sizeof query, "contributor=%s&limit=100", carl_id);
    p = search(query);
    assert_int_equal(pos_of(items(p), imgs[HARBOUR].id), -1);
    assert_true(pos_of(items(p), imgs[FLOWER].id) >= 0);
    json_array_foreach(items(p), i, it)
    {
        assert_string_equal(
            kit_jstr_or(json_object_get(it, "contributor"), "id"), carl_id);
        assert_string_equal(
            kit_jstr_or(json_object_get(it, "contributor"), "name"), "carl");
    }
    json_decref(p);
    snprintf(query, sizeof query, "contributor=%s&q=photo", dora_id);
    p = search(query);
    assert_exactly(items(p), harbour, 1, "contributor=dora&q=photo");
    json_decref(p);
    p = search("contributor=u0000000000000000");
    assert_int_equal(json_array_size(items(p)), 0);
    json_decref(p);
}

/* ---- sorts ------------------------------------------------------------ */

/* Without text the default is newest approved first: the reverse of the
 * order of approval (and of upload, for ties within a second). sort=
 * relevance without text is the same. */
static void
test_sort_newest_default_without_q(void **state)
{
    const char *queries[] = {"limit=100", "sort=newest&limit=100",
                             "sort=relevance&limit=100", "q=&limit=100"};

    (void)state;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        json_t *p = search(queries[q]);
        int last = -1;
        char buf[2048];

        for (int k = N_IMG - 1; k >= 0; k--) {
            int at;

            if (!imgs[k].approved || imgs[k].fate != APPROVE)
                continue;
            at = pos_of(items(p), imgs[k].id);
            if (at < 0 || at < last)
                fail_msg("%s: '%s' at %d after %d: %s", queries[q],
                         imgs[k].title, at, last,
                         names(items(p), buf, sizeof buf));
            last = at;
        }
        assert_int_equal((int)json_array_size(items(p)), n_approved());
        json_decref(p);
    }
}

/* Popular is licences sold: a buyer licenses CAT (neither the newest nor
 * the last upload), which must then sort first, with or without text. */
static void
test_sort_popular(void **state)
{
    char path[128];
    struct th_resp r;
    json_t *p, *it, *j;
    size_t i;

    (void)state;
    kit_buy(buyer, "10", NULL);
    kit_licence(buyer, imgs[CAT].id, "XL", "standard", &r);
    kit_expect(&r, 201, NULL, "licence");
    th_resp_free(&r);

    p = search("sort=popular&limit=100");
    assert_string_equal(kit_jstr_or(json_array_get(items(p), 0), "id"),
                        imgs[CAT].id);
    json_array_foreach(items(p), i, it) assert_int_equal(
        json_integer_value(json_object_get(it, "licences_sold")),
        i == 0 ? 1 : 0);
    assert_int_equal((int)json_array_size(items(p)), n_approved());
    json_decref(p);
    p = search("q=photo&sort=popular&limit=100");
    assert_string_equal(kit_jstr_or(json_array_get(items(p), 0), "id"),
                        imgs[CAT].id);
    json_decref(p);
    /* Without the sale CAT would not be first: ties go newest first. */
    p = search("q=photo&sort=newest&limit=100");
    assert_string_not_equal(kit_jstr_or(json_array_get(items(p), 0), "id"),
                            imgs[CAT].id);
    json_decref(p);
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[CAT].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "licences_sold")),
                     1);
    json_decref(j);
}

/* ---- paging ----------------------------------------------------------- */

#define MAX_SEEN 64

/* Walk every page of query with limit=2, calling between(page) after each
 * page; ids into seen (no duplicates allowed). Returns the count. */
static int
walk(const char *query, char seen[][64], void (*between)(int))
{
    char cursor[128] = "", q[2400];
    int n = 0, pages = 0;

    for (;;) {
        json_t *p, *it, *next;
        size_t i;

        snprintf(q, sizeof q, "%s%slimit=2%s%s", query, *query ? "&" : "",
                 cursor[0] ? "&cursor=" : "", cursor);
        p = search(q);
        if (json_array_size(items(p)) > 2)
            fail_msg("%s: %zu items on a page of 2", q,
                     json_array_size(items(p)));
        json_array_foreach(items(p), i, it)
        {
            for (int s = 0; s < n; s++)
                if (!strcmp(seen[s], kit_jstr_or(it, "id")))
                    fail_msg("%s: '%s' again on page %d", query,
                             kit_jstr_or(it, "title"), pages + 1);
            if (n == MAX_SEEN)
                fail_msg("%s: more than %d items", query, MAX_SEEN);
            snprintf(seen[n++], 64, "%s", kit_jstr_or(it, "id"));
        }
        next = json_object_get(p, "next_cursor");
        pages++;
        if (json_is_null(next)) {
            json_decref(p);
            break;
        }
        if (!json_is_string(next) || !*json_string_value(next))
            fail_msg("%s: next_cursor is neither a string nor null", q);
        if (json_array_size(items(p)) == 0)
            fail_msg("%s: an empty page with a next_cursor", q);
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(p);
        if (between)
            between(pages);
        if (pages > MAX_SEEN)
            fail_msg("%s: paging does not end", query);
    }
    return n;
}

/* Pages of 2 give exactly the one page of 100, in the same order. */
static void
test_cursor_paging(void **state)
{
    static const char *const queries[] = {
        "",
        "sort=newest",
        "sort=popular",
        "q=photo",
        "q=photo&sort=newest",
        "q=photo&sort=popular",
        "orientation=landscape",
        "q=hat",
        "q=photo&orientation=landscape",
        "q=photo&min_megapixels=0.2",
        "q=phot",
        "sort=popular&orientation=portrait",
    };

    (void)state;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        char seen[MAX_SEEN][64], one[2400];
        int n = walk(queries[q], seen, NULL);
        json_t *all;

        snprintf(one, sizeof one, "%s%slimit=100", queries[q],
                 *queries[q] ? "&" : "");
        all = search(one);
        if ((int)json_array_size(items(all)) != n)
            fail_msg("%s: %d items in pages of 2, %zu in one page", queries[q],
                     n, json_array_size(items(all)));
        for (int i = 0; i < n; i++)
            if (strcmp(kit_jstr_or(json_array_get(items(all), (size_t)i), "id"),
                       seen[i]) != 0)
                fail_msg("%s: item %d differs between pages of 2 and 100",
                         queries[q], i);
        /* Enough items to have made several pages. */
        assert_true(n >= 3);
        assert_true(json_is_null(json_object_get(all, "next_cursor")));
        json_decref(all);
    }
}

static int late_next;

static void
approve_one_late(int page)
{
    (void)page;
    while (late_next < N_IMG && imgs[late_next].fate != LATE)
        late_next++;
    if (late_next < N_IMG)
        approve(late_next++);
}

/* Newest pages stay exact while images are approved between page fetches:
 * everything that was listed before is seen exactly once, in the same
 * order, and nothing twice. */
static void
test_paging_newest_while_approving(void **state)
{
    char seen[MAX_SEEN][64];
    json_t *before;
    int n, last = -1;
    size_t i;
    json_t *it;

    (void)state;
    before = search("limit=100");
    late_next = 0;
    n = walk("", seen, approve_one_late);
    assert_int_equal(late_next, N_IMG); /* all three were approved */
    json_array_foreach(items(before), i, it)
    {
        int at = -1;

        for (int s = 0; s < n; s++)
            if (!strcmp(seen[s], kit_jstr_or(it, "id")))
                at = s;
        if (at < 0)
            fail_msg("'%s' was skipped while images were approved",
                     kit_jstr_or(it, "title"));
        if (at < last)
            fail_msg("'%s' moved back across the cursor",
                     kit_jstr_or(it, "title"));
        last = at;
    }
    for (int s = 0; s < n; s++) {
        int k = which(seen[s]);

        if (pos_of(items(before), seen[s]) < 0 &&
            (k < 0 || imgs[k].fate != LATE))
            fail_msg("paging listed %s, which was neither listed before nor"
                     " approved since",
                     seen[s]);
    }
    json_decref(before);
    /* And now they are all there. */
    before = search("limit=100");
    assert_int_equal((int)json_array_size(items(before)), n_approved());
    for (int k = 0; k < N_IMG; k++)
        if (imgs[k].fate == LATE)
            assert_true(pos_of(items(before), imgs[k].id) >= 0);
    json_decref(before);
}

/* ---- hostile text and bad parameters ---------------------------------- */

/* The search text is never an error and never syntax. */
static void
test_hostile_q(void **state)
{
    static const char *const texts[] = {
        "\"",
        "\"\"\"",
        "bicycle\"",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "AND OR NOT",
        "*",
        "bicycle*",
        "*bicycle",
        "NEAR(",
        "NEAR(bicycle",
        "NEAR(a b, 3)",
        "title:",
        "title:bicycle",
        "keywords:bicycle",
        "{title keywords}:x",
        "^",
        "^bicycle",
        "-bicycle",
        "+",
        "(",
        ")",
        "((((",
        "a OR b NOT c",
        "' OR 1=1 --",
        "'; DROP TABLE images; --",
        "1' UNION SELECT password_hash FROM users --",
        "\\",
        "%",
        "%%",
        "_",
        "\"unclosed phrase bicycle",
        "bicycle \"\" garden",
        "🚲 bicycle",
        "\xe2\x80\x94",
        "\xef\xbb\xbf",
        "\xe2\x80\x8b",
        "\xcc\x81",
        "\xc3\xa9t\xc3\xa9",
        ":",
        "::",
        "x:y:z",
        "a\tb\nc",
        "NEAR/3",
        "bicycle^2",
        "bicycle AND",
        "bicycle OR garden",
        "NOT bicycle",
    };
    /* What some of them must still find: operators are dropped, the words
     * around them are searched. */
    static const struct {
        const char *q;
        int k;
    } finds[] = {
        {"bicycle AND", FLOWER},
        {"NEAR(bicycle", FLOWER},
        {"title:bicycle", FLOWER},
        {"^bicycle", FLOWER},
        {"bicycle\"", FLOWER},
        {"🚲 bicycle", FLOWER},
        {"bicycle*", FLOWER},
        {"NOT bicycle", FLOWER},
        /* Symbols the tokenizer drops must not drop the whole query. */
        {"bicycle \xe2\x80\x94", FLOWER},
        {"garden \xe2\x80\x93 bicycle", FLOWER},
        {"bicycle \xe2\x84\xa2", FLOWER},
    };
    int all = n_approved(), missed = 0;

    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        json_t *p = search_q(texts[t], "limit=100");

        (void)items(p);
        json_decref(p);
    }
    for (size_t f = 0; f < sizeof finds / sizeof finds[0]; f++) {
        json_t *p = search_q(finds[f].q, "limit=100");

        /* Report every miss, not just the first. */
        if (pos_of(items(p), imgs[finds[f].k].id) < 0) {
            print_error("q=%s does not find '%s'\n", finds[f].q,
                        imgs[finds[f].k].title);
            missed++;
        }
        json_decref(p);
    }
    /* Nothing searchable left: everything, as without text. */
    {
        json_t *p = search_q("AND OR NOT *", "limit=100");

        assert_int_equal((int)json_array_size(items(p)), all);
        json_decref(p);
    }
    /* An injection must not widen the result: no image has these words. */
    {
        json_t *p = search_q("' OR 1=1 --", "limit=100");

        assert_int_equal(json_array_size(items(p)), 0);
        json_decref(p);
        /* Not a colour: an empty page, or 422 once colours are checked. */
        {
            struct th_resp r;

            kit_call("GET",
                     "/api/v1/images?limit=100&colour=%27%20OR%201%3D1"
                     "%20--",
                     NULL, NULL, NULL, &r);
            kit_expect(&r, 422, "invalid_parameter", "colour=' OR 1=1 --");
            th_resp_free(&r);
        }
        p = search("limit=100&contributor=%27%20OR%20%271%27%3D%271");
        assert_int_equal(json_array_size(items(p)), 0);
        json_decref(p);
    }
    /* Invalid UTF-8 separates words, percent-encoded as a browser would. */
    {
        static const char *const raw[] = {
            "q=%ff%fe",           "q=%ff%febicycle", "q=bicycle%ff", "q=%c0%80",
            "q=%ed%a0%80bicycle", "q=%f4%90%80%80",  "q=%e2%82",     "q=%00",
            "q=bicycle%00garden", "q=%22%ff%22",     "q=%f0%9f%9a",
        };

        for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
            json_t *p = search(raw[i]);

            if (strstr(raw[i], "bicycle") && !strstr(raw[i], "%00") &&
                pos_of(items(p), imgs[FLOWER].id) < 0)
                fail_msg("%s does not find '%s'", raw[i], imgs[FLOWER].title);
            json_decref(p);
        }
    }
    /* Many words: more than the 16 kept. */
    {
        char many[1200] = "";

        for (int i = 0; i < 60; i++)
            strcat(many, i % 2 ? "OR " : "bicycle ");
        json_decref(search_q(many, NULL));
    }
    assert_true(tu_healthy(&srv));
    assert_int_equal(missed, 0);
}

/* A 10 KB query string goes over a raw socket: libcurl is fine with it but
 * the harness builds URLs in a fixed buffer. */
static void
test_huge_q(void **state)
{
    static const char *const words[] = {"bicycle+", "%22",  "NEAR(",
                                        "%ff",      "x%3A", "*"};
    size_t cap = 16 * 1024;
    char *reqbuf = malloc(cap), *out = malloc(65536);
    size_t len;
    int st;

    (void)state;
    assert_non_null(reqbuf);
    assert_non_null(out);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        len = (size_t)snprintf(reqbuf, cap, "GET /api/v1/images?q=");
        while (len < 10 * 1024)
            len += (size_t)snprintf(reqbuf + len, cap - len, "%s", words[w]);
        len += (size_t)snprintf(reqbuf + len, cap - len,
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Connection: close\r\n\r\n");
        st = tu_raw_exchange(srv.port, reqbuf, len, out, 65536, RAW_MS);
        if (st != 200)
            fail_msg("10 KB of '%s': %d, expected 200: %.300s", words[w], st,
                     out);
        if (w == 0 && !strstr(out, imgs[FLOWER].id))
            fail_msg("10 KB of 'bicycle' does not find '%s'",
                     imgs[FLOWER].title);
    }
    free(reqbuf);
    free(out);
    assert_true(tu_healthy(&srv));
}

static void
test_bad_parameters_422(void **state)
{
    static const char *const bad[] = {
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "limit=1e2",
        "limit=2x",
        "limit=99999999999999999999",
        "orientation=diagonal",
        "orientation=LANDSCAPE",
        "min_megapixels=-1",
        "min_megapixels=abc",
        "min_megapixels=nan",
        "min_megapixels=inf",
        "min_megapixels=1001",
        "min_megapixels=1x",
        "sort=random",
        "sort=NEWEST",
        "cursor=garbage",
        "cursor=n0000000000000000",
        "q=bicycle&cursor=%27%20OR%201%3D1",
        "cursor=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    };
    char path[256], cursor[128];
    json_t *p;

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        snprintf(path, sizeof path, "/api/v1/images?%s", bad[b]);
        kit_call("GET", path, NULL, NULL, NULL, &r);
        if (r.status != 422 || strcmp(th_error_code(&r), "invalid_parameter"))
            fail_msg("%s: %ld %.200s, expected 422 invalid_parameter", bad[b],
                     r.status, r.body);
        tu_assert_security_headers(&r, bad[b]);
        th_resp_free(&r);
        /* The contributor page takes the same parameters. */
        snprintf(path, sizeof path, "/api/v1/contributors/%s?%s", carl_id,
                 bad[b]);
        kit_check("GET", path, NULL, NULL, 422, "invalid_parameter",
                  "anonymous, the contributor page");
    }
    /* A cursor is refused by another sort. */
    p = search("limit=2");
    snprintf(cursor, sizeof cursor, "%s", kit_jstr_or(p, "next_cursor"));
    json_decref(p);
    assert_true(cursor[0] != '\0');
    snprintf(path, sizeof path,
             "/api/v1/images?sort=popular&limit=2&"
             "cursor=%s",
             cursor);
    kit_check("GET", path, NULL, NULL, 422, "invalid_parameter", "anonymous");
    snprintf(path, sizeof path, "/api/v1/images?q=photo&limit=2&cursor=%s",
             cursor);
    kit_check("GET", path, NULL, NULL, 422, "invalid_parameter", "anonymous");
    /* The boundaries themselves are fine. */
    json_decref(search("limit=1"));
    json_decref(search("limit=100"));
    json_decref(search("min_megapixels=1000"));
}

/* A colour outside the palette is a bad parameter like orientation=
 * diagonal, not an empty page: "gray" (the American spelling) would
 * otherwise read as "no grey photos here". */
static void
test_unknown_colour_422(void **state)
{
    static const char *const bad[] = {"colour=gray", "colour=chartreuse",
                                      "colour=RED", "colour=%27%20OR%201"};
    char path[160];
    json_t *p;

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        snprintf(path, sizeof path, "/api/v1/images?%s", bad[b]);
        kit_call("GET", path, NULL, NULL, NULL, &r);
        if (r.status != 422 || strcmp(th_error_code(&r), "invalid_parameter"))
            fail_msg("%s: %ld %.200s, expected 422 invalid_parameter", bad[b],
                     r.status, r.body);
        th_resp_free(&r);
    }
    /* Every colour of the palette is accepted. */
    for (size_t c = 0; c < sizeof palette / sizeof palette[0]; c++) {
        snprintf(path, sizeof path, "colour=%s", palette[c]);
        p = search(path);
        json_decref(p);
    }
}

/* ---- visibility ------------------------------------------------------- */

/* Rejected and pending images: 404 to the public and to other users (the
 * same answer as a missing id), 200 to the owner and to reviewers; and
 * never in any listing. */
static void
test_visibility_by_role(void **state)
{
    static const int hidden[] = {REJECTED, PENDING_IMG};
    char path[256];
    json_t *j;

    (void)state;
    for (size_t h = 0; h < 2; h++) {
        int k = hidden[h];
        const char *who[] = {NULL, dora, buyer};
        const char *name[] = {"anonymous", "another user", "a buyer"};

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
        for (int w = 0; w < 3; w++) {
            struct th_resp r;

            kit_call("GET", path, who[w], NULL, NULL, &r);
            if (r.status != 404 || strcmp(th_error_code(&r), "not_found"))
                fail_msg("'%s' as %s: %ld %.200s", imgs[k].title, name[w],
                         r.status, r.body);
            th_resp_free(&r);
        }
        j = kit_want("GET", path, carl, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "status"),
                            k == REJECTED ? "rejected" : "pending_review");
        if (k == REJECTED)
            assert_string_equal(kit_jstr_or(j, "reject_code"), "poor_quality");
        json_decref(j);
        j = kit_want("GET", path, admin, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "id"), imgs[k].id);
        json_decref(j);
        j = kit_want("GET", path, reviewer, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "id"), imgs[k].id);
        json_decref(j);
        snprintf(path, sizeof path, "/images/%s/thumbnail.jpg", imgs[k].id);
        kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
        kit_check("GET", path, dora, NULL, 404, "not_found", "dora");
        kit_check("GET", path, carl, NULL, 200, NULL, "carl");
        snprintf(path, sizeof path, "/images/%s/preview.jpg", imgs[k].id);
        kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    }
    kit_check("GET", "/api/v1/images/i0000000000000000", NULL, NULL, 404,
              "not_found", "anonymous");
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[FLOWER].id);
    kit_check("GET", path, NULL, NULL, 200, NULL, "anonymous");

    /* No listing shows them, whoever asks. */
    {
        const char *queries[] = {
            "q=bicycle&limit=100",
            "limit=100",
            "q=photo&limit=100",
            "sort=popular&limit=100",
            "q=rose",
            "q=shop",
            "q=pending",
            "q=rejected",
        };
        const char *who[] = {NULL, carl, admin, reviewer};

        for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
            for (int w = 0; w < 4; w++) {
                snprintf(path, sizeof path, "/api/v1/images?%s", queries[q]);
                j = kit_want("GET", path, who[w], NULL, 200, NULL);
                for (size_t h = 0; h < 2; h++)
                    if (pos_of(items(j), imgs[hidden[h]].id) >= 0)
                        fail_msg("%s lists '%s'", queries[q],
                                 imgs[hidden[h]].title);
                json_decref(j);
            }
        }
        snprintf(path, sizeof path, "/api/v1/contributors/%s?limit=100",
                 carl_id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        for (size_t h = 0; h < 2; h++)
            assert_int_equal(pos_of(items(j), imgs[hidden[h]].id), -1);
        json_decref(j);
    }
}

/* ---- the image page --------------------------------------------------- */

static void
check_sizes(int k, const char *const *want, int nwant)
{
    static const struct {
        const char *name;
        int edge, credits;
    } table[] = {
        {"S", 1024, 1},
        {"M", 2048, 2},
        {"L", 4096, 4},
        {"XL", 0, 6},
    };
    char path[128];
    json_t *j, *sizes, *s;
    long long ow, oh, olong;
    size_t i;

    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    ow = json_integer_value(json_object_get(j, "width"));
    oh = json_integer_value(json_object_get(j, "height"));
    olong = ow > oh ? ow : oh;
    sizes = json_object_get(j, "sizes");
    assert_true(json_is_array(sizes));
    if ((int)json_array_size(sizes) != nwant)
        fail_msg("'%s' (%lldx%lld): %zu sizes, expected %d", imgs[k].title, ow,
                 oh, json_array_size(sizes), nwant);
    json_array_foreach(sizes, i, s)
    {
        const char *name = kit_jstr_or(s, "name");
        long long w = json_integer_value(json_object_get(s, "width"));
        long long h = json_integer_value(json_object_get(s, "height"));
        long long c = json_integer_value(json_object_get(s, "credits"));
        long long x =
            json_integer_value(json_object_get(s, "extended_credits"));
        long long edge = w > h ? w : h;
        size_t t;

        assert_string_equal(name, want[i]);
        for (t = 0; strcmp(table[t].name, name); t++)
            ;
        /* Never larger than the original; the named long edge, or the
         * original's pixels for XL; the same shape. */
        if (edge > olong)
            fail_msg("'%s' offers %s at %lldx%lld, larger than %lldx%lld",
                     imgs[k].title, name, w, h, ow, oh);
        assert_int_equal(edge, table[t].edge ? table[t].edge : olong);
        if (!table[t].edge) {
            assert_int_equal(w, ow);
            assert_int_equal(h, oh);
        }
        if (llabs(w * oh - h * ow) > olong)
            fail_msg("%s of '%s' is %lldx%lld, not the shape of %lldx%lld",
                     name, imgs[k].title, w, h, ow, oh);
        assert_int_equal(c, table[t].credits);
        assert_int_equal(x, table[t].credits + 30);
    }
    json_decref(j);
}

static void
test_image_page(void **state)
{
    static const char *const big[] = {"S", "M", "XL"};
    static const char *const xl[] = {"XL"};
    static const char *const owner_only[] = {
        "views",         "format",      "file_size",   "queue_position",
        "reject_reason", "fail_reason", "camera_make",
    };
    char path[128], url[128], buf[1024];
    json_t *j, *c, *kw, *sim, *it;
    size_t i;

    (void)state;
    /* 2560 x 1600: S and M fit, L (4096) does not. */
    check_sizes(WATER, big, 3);
    check_sizes(FLOWER, xl, 1);
    check_sizes(HOPPER, xl, 1);

    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[FLOWER].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(j, "id"), imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "title"), "Garden flower");
    assert_string_equal(kit_jstr_or(j, "description"), "Petals in the sun.");
    assert_string_equal(kit_jstr_or(j, "status"), "approved");
    assert_string_equal(kit_jstr_or(j, "orientation"), "landscape");
    assert_int_equal(json_integer_value(json_object_get(j, "width")), 480);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), 360);
    c = json_object_get(j, "contributor");
    assert_string_equal(kit_jstr_or(c, "id"), carl_id);
    assert_string_equal(kit_jstr_or(c, "name"), "carl");
    snprintf(url, sizeof url, "/api/v1/contributors/%s", carl_id);
    assert_string_equal(kit_jstr_or(c, "url"), url);
    /* Keywords come back normalised, as a list. */
    kw = json_object_get(j, "keywords");
    assert_true(json_is_array(kw));
    assert_int_equal(json_array_size(kw), 4);
    assert_string_equal(json_string_value(json_array_get(kw, 0)), "bicycle");
    assert_string_equal(json_string_value(json_array_get(kw, 1)), "garden");
    assert_string_equal(json_string_value(json_array_get(kw, 2)), "summer");
    assert_string_equal(json_string_value(json_array_get(kw, 3)), "photo");
    snprintf(url, sizeof url, "/images/%s/thumbnail.jpg", imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "thumbnail_url"), url);
    snprintf(url, sizeof url, "/images/%s/preview.jpg", imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "preview_url"), url);
    for (i = 0; i < sizeof owner_only / sizeof owner_only[0]; i++)
        if (json_object_get(j, owner_only[i]))
            fail_msg("the public page shows '%s'", owner_only[i]);
    json_decref(j);
    j = kit_want("GET", path, carl, NULL, 200, NULL);
    assert_non_null(json_object_get(j, "views"));
    assert_string_equal(kit_jstr_or(j, "format"), "jpeg");
    json_decref(j);

    /* Similar: up to 12, never the image itself, only approved images; an
     * approved near duplicate comes before keyword matches. Every image
     * shares "photo", so the list is full. */
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[SAMPLE].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    sim = json_object_get(j, "similar");
    assert_true(json_is_array(sim));
    if (json_array_size(sim) != 12)
        fail_msg("%zu similar images, expected 12: %s", json_array_size(sim),
                 names(sim, buf, sizeof buf));
    json_array_foreach(sim, i, it)
    {
        int k = which(kit_jstr_or(it, "id"));

        if (k == SAMPLE)
            fail_msg("the image is similar to itself");
        if (k < 0 || !imgs[k].approved)
            fail_msg("similar lists '%s', not approved",
                     kit_jstr_or(it, "title"));
        for (size_t m = 0; m < i; m++)
            assert_string_not_equal(kit_jstr_or(json_array_get(sim, m), "id"),
                                    kit_jstr_or(it, "id"));
        assert_true(kit_jstr_or(it, "thumbnail_url")[0] != '\0');
        assert_true(kit_jstr_or(it, "url")[0] != '\0');
        if (i < 4 && (k < COPY1 || k > COPY4))
            fail_msg("similar[%zu] is '%s', not one of the four copies: %s", i,
                     kit_jstr_or(it, "title"), names(sim, buf, sizeof buf));
    }
    json_decref(j);
    /* A pending image's page (for its owner) lists no similar images. */
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[PENDING_IMG].id);
    j = kit_want("GET", path, carl, NULL, 200, NULL);
    sim = json_object_get(j, "similar");
    if (sim && json_array_size(sim))
        fail_msg("a pending image has similar images");
    json_decref(j);
}

/* ---- views ------------------------------------------------------------ */

struct views_wait {
    int k;
    long long views;
};

static int
views_reached(void *arg)
{
    struct views_wait *w = arg;
    struct th_resp r;
    json_t *it;
    size_t i;

    if (kit_try("GET", "/api/v1/me/images?limit=100", carl, NULL, NULL, &r) <
            0 ||
        r.status != 200) {
        th_resp_free(&r);
        return 0;
    }
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "id"), imgs[w->k].id))
            w->views = json_integer_value(json_object_get(it, "views"));
    }
    th_resp_free(&r);
    return w->views >= 3;
}

/* Three anonymous page views of ROCKET (which no other test opens) reach
 * the owner's dashboard within a few flushes; the owner's views of a
 * pending image are not counted. */
static void
test_views_counted(void **state)
{
    struct views_wait w = {ROCKET, -1};
    char path[128];
    json_t *mine, *it;
    size_t i;

    (void)state;
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[PENDING_IMG].id);
    for (int n = 0; n < 2; n++)
        json_decref(kit_want("GET", path, carl, NULL, 200, NULL));
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[ROCKET].id);
    for (int n = 0; n < 3; n++)
        json_decref(kit_want("GET", path, NULL, NULL, 200, NULL));
    if (!th_poll(views_reached, &w, VIEWS_MS))
        fail_msg("views of '%s' stayed at %lld after 3 page views",
                 imgs[ROCKET].title, w.views);
    assert_int_equal(w.views, 3);
    /* The flush that wrote those wrote everything counted before them. */
    mine =
        kit_want("GET", "/api/v1/me/images?limit=100", carl, NULL, 200, NULL);
    json_array_foreach(json_object_get(mine, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "id"), imgs[PENDING_IMG].id))
            assert_int_equal(json_integer_value(json_object_get(it, "views")),
                             0);
    }
    json_decref(mine);
}

/* ---- contributor profiles --------------------------------------------- */

static void
test_contributor_profile(void **state)
{
    char path[160];
    json_t *p, *mine, *it;
    size_t i;
    long long approved = 0, sold = 0, sold_items = 0;

    (void)state;
    mine =
        kit_want("GET", "/api/v1/me/images?limit=100", carl, NULL, 200, NULL);
    json_array_foreach(json_object_get(mine, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "status"), "approved")) {
            approved++;
            sold += json_integer_value(json_object_get(it, "licences_sold"));
        }
    }
    json_decref(mine);
    assert_true(approved >= 10);

    snprintf(path, sizeof path, "/api/v1/contributors/%s?limit=100", carl_id);
    p = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(p, "id"), carl_id);
    assert_string_equal(kit_jstr_or(p, "name"), "carl");
    assert_true(kit_jstr_or(p, "member_since")[0] != '\0');
    assert_int_equal(json_integer_value(json_object_get(p, "images")),
                     approved);
    assert_int_equal(json_integer_value(json_object_get(p, "licences_sold")),
                     sold);
    assert_int_equal((long long)json_array_size(items(p)), approved);
    json_array_foreach(items(p), i, it)
    {
        int k = which(kit_jstr_or(it, "id"));

        if (k < 0 || !imgs[k].approved || imgs[k].dora)
            fail_msg("carl's profile lists '%s'", kit_jstr_or(it, "title"));
        sold_items += json_integer_value(json_object_get(it, "licences_sold"));
    }
    assert_int_equal(sold_items, sold);
    assert_true(json_is_null(json_object_get(p, "next_cursor")));
    json_decref(p);

    /* Paged like search. */
    {
        char seen[MAX_SEEN][64], q[200];
        int n;

        snprintf(q, sizeof q, "contributor=%s", carl_id);
        n = walk(q, seen, NULL);
        assert_int_equal(n, approved);
    }

    snprintf(path, sizeof path, "/api/v1/contributors/%s", dora_id);
    p = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(p, "name"), "dora");
    assert_int_equal(json_integer_value(json_object_get(p, "images")), 1);
    assert_int_equal(json_array_size(items(p)), 1);
    assert_string_equal(kit_jstr_or(json_array_get(items(p), 0), "id"),
                        imgs[HARBOUR].id);
    json_decref(p);

    /* A buyer who never uploaded has an empty profile, not an error. */
    {
        char buyer_id[64];

        kit_my_id(buyer, buyer_id);
        snprintf(path, sizeof path, "/api/v1/contributors/%s", buyer_id);
        p = kit_want("GET", path, NULL, NULL, 200, NULL);
        assert_int_equal(json_integer_value(json_object_get(p, "images")), 0);
        assert_int_equal(json_array_size(items(p)), 0);
        json_decref(p);
    }

    kit_check("GET", "/api/v1/contributors/u0000000000000000", NULL, NULL, 404,
              "not_found", "anonymous");
    kit_check("GET", "/api/v1/contributors/%27%20OR%201%3D1", NULL, NULL, 404,
              "not_found", "anonymous");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_keyword_beats_description),
        cmocka_unit_test(test_stemming),
        cmocka_unit_test(test_prefix_of_last_word),
        cmocka_unit_test(test_quoted_phrase),
        cmocka_unit_test(test_filter_orientation),
        cmocka_unit_test(test_orientation_page_agrees_with_filter),
        cmocka_unit_test(test_filter_min_megapixels),
        cmocka_unit_test(test_filter_colour),
        cmocka_unit_test(test_filter_contributor),
        cmocka_unit_test(test_sort_newest_default_without_q),
        cmocka_unit_test(test_sort_popular),
        cmocka_unit_test(test_cursor_paging),
        cmocka_unit_test(test_hostile_q),
        cmocka_unit_test(test_huge_q),
        cmocka_unit_test(test_bad_parameters_422),
        cmocka_unit_test(test_unknown_colour_422),
        cmocka_unit_test(test_visibility_by_role),
        cmocka_unit_test(test_image_page),
        cmocka_unit_test(test_views_counted),
        cmocka_unit_test(test_contributor_profile),
        /* Last: it approves the late images. */
        cmocka_unit_test(test_paging_newest_while_approving),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
