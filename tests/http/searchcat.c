/* Stockroom — the search tests' catalogue: one server, a contributor
 * ("carl") who uploads a dozen small corpus photos with titles and keywords
 * chosen so that each assertion has one right answer, a second contributor
 * ("dora") with one, and an admin who approves most, rejects one and
 * leaves some pending; and the search helpers the tests share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "searchcat.h"
#include "util.h"

#define PW "correct horse battery"
#define PROCESS_MS 120000 /* every upload processed, sanitizer build */

struct th_server sc_srv;
static char scratch[256]; /* unique copies of corpus files */
char sc_carl[128], sc_dora[128], sc_buyer[128], sc_admin[128], sc_reviewer[128];
char sc_carl_id[64], sc_dora_id[64];

struct sc_img sc_imgs[N_IMG] = {
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

const char *const sc_palette[SC_N_PALETTE] = {
    "red",    "orange", "yellow", "green", "teal",  "blue",
    "purple", "pink",   "brown",  "black", "white", "grey",
};

/* ---- requests --------------------------------------------------------- */

/* Percent-encode every byte but the unreserved ones. */
void
sc_enc(const char *s, size_t n, char *out, size_t cap)
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
json_t *
sc_search(const char *query)
{
    char path[2600];

    snprintf(path, sizeof path, "/api/v1/images?%s", query);
    return kit_want("GET", path, NULL, NULL, 200, NULL);
}

/* Search with q (plain text, encoded here) and more parameters. */
json_t *
sc_search_q(const char *q, const char *more)
{
    char e[1024], query[1400];

    sc_enc(q, strlen(q), e, sizeof e);
    snprintf(query, sizeof query, "q=%s%s%s", e, more ? "&" : "",
             more ? more : "");
    return sc_search(query);
}

json_t *
sc_items(json_t *page)
{
    json_t *a = json_object_get(page, "items");

    if (!json_is_array(a))
        fail_msg("no items array");
    return a;
}

/* Position of id in a list of items, or -1. */
int
sc_pos_of(json_t *list, const char *id)
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
int
sc_which(const char *id)
{
    for (int k = 0; k < N_IMG; k++)
        if (!strcmp(sc_imgs[k].id, id))
            return k;
    return -1;
}

/* The items of page, as our image names, for messages. */
const char *
sc_names(json_t *list, char *buf, size_t len)
{
    size_t i, o = 0;
    json_t *it;

    buf[0] = '\0';
    json_array_foreach(list, i, it)
    {
        int k = sc_which(kit_jstr_or(it, "id"));

        o += (size_t)snprintf(
            buf + o, o < len ? len - o : 0, "%s'%s'", i ? ", " : "",
            k >= 0 ? sc_imgs[k].title : kit_jstr_or(it, "id"));
        if (o >= len)
            break;
    }
    return buf;
}

/* The set of ids in list is exactly the images in want (n of them). */
void
sc_assert_exactly(json_t *list, const int *want, int n, const char *what)
{
    char buf[1024];

    if ((int)json_array_size(list) != n)
        fail_msg("%s: %zu items (%s), expected %d", what, json_array_size(list),
                 sc_names(list, buf, sizeof buf), n);
    for (int i = 0; i < n; i++)
        if (sc_pos_of(list, sc_imgs[want[i]].id) < 0)
            fail_msg("%s: '%s' missing from %s", what, sc_imgs[want[i]].title,
                     sc_names(list, buf, sizeof buf));
}

void
sc_approve(int k)
{
    kit_approve(sc_imgs[k].dora ? sc_dora : sc_carl, sc_admin, sc_imgs[k].id);
    sc_imgs[k].approved = 1;
}

int
sc_n_approved(void)
{
    int n = 0;

    for (int k = 0; k < N_IMG; k++)
        n += sc_imgs[k].approved;
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
chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char *buf = malloc(n + 8);

    assert_non_null(buf);
    iu_put32(buf, (uint32_t)n);
    memcpy(buf + 4, type, 4);
    if (n)
        memcpy(buf + 8, data, n);
    fwrite(buf, 1, n + 8, f);
    iu_put32(buf, iu_crc32(buf + 4, n + 4));
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
    iu_put32(z + o, b << 16 | a);
    o += 4;
    iu_put32(ihdr, (uint32_t)w);
    iu_put32(ihdr + 4, (uint32_t)h);
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
    struct sc_img *m = &sc_imgs[k];
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
    if (th_upload(&sc_srv, "/api/v1/images", m->dora ? sc_dora : sc_carl, path,
                  NULL, fields, &r) < 0)
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

        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[k].id);
        if (kit_try("GET", path, sc_imgs[k].dora ? sc_dora : sc_carl, NULL,
                    NULL, &r) < 0)
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

int
sc_setup(void **state)
{
    int left = 0;

    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/stockroom-search-XXXXXX");
    if (!mkdtemp(scratch) || th_start(&sc_srv, flags) < 0)
        return -1;
    kit_use(&sc_srv);
    th_new_user(&sc_srv, "carl", sc_carl);
    th_new_user(&sc_srv, "dora", sc_dora);
    th_new_user(&sc_srv, "buyer", sc_buyer);
    kit_staff("admin", "admin", sc_admin);
    kit_staff("reviewer", "reviewer", sc_reviewer);
    kit_my_id(sc_carl, sc_carl_id);
    kit_my_id(sc_dora, sc_dora_id);
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

        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[k].id);
        j = kit_want("GET", path, sc_imgs[k].dora ? sc_dora : sc_carl, NULL,
                     200, NULL);
        if (strcmp(kit_jstr_or(j, "status"), "pending_review") != 0) {
            fprintf(stderr, "%s: status %s, expected pending_review (%s)\n",
                    sc_imgs[k].title, kit_jstr_or(j, "status"),
                    kit_jstr_or(j, "fail_reason"));
            json_decref(j);
            return -1;
        }
        json_decref(j);
    }
    for (int k = 0; k < N_IMG; k++) {
        if (sc_imgs[k].fate == APPROVE) {
            sc_approve(k);
        } else if (sc_imgs[k].fate == REJECT) {
            char path[128];

            snprintf(path, sizeof path, "/api/v1/images/%s/review",
                     sc_imgs[k].id);
            json_decref(kit_want(
                "POST", path, sc_admin,
                "{\"decision\":\"reject\","
                "\"reason_code\":\"poor_quality\",\"reason\":\"Blurred.\"}",
                200, NULL));
        }
    }
    return 0;
}

int
sc_teardown(void **state)
{
    char cmd[300];
    int rc = th_stop(&sc_srv);

    (void)state;
    th_cleanup(&sc_srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}

/* Walk every page of query with limit=2, calling between(page) after each
 * page; ids into seen (no duplicates allowed). Returns the count. */
int
sc_walk(const char *query, char seen[][64], void (*between)(int))
{
    char cursor[128] = "", q[2400];
    int n = 0, pages = 0;

    for (;;) {
        json_t *p, *it, *next;
        size_t i;

        snprintf(q, sizeof q, "%s%slimit=2%s%s", query, *query ? "&" : "",
                 cursor[0] ? "&cursor=" : "", cursor);
        p = sc_search(q);
        if (json_array_size(sc_items(p)) > 2)
            fail_msg("%s: %zu items on a page of 2", q,
                     json_array_size(sc_items(p)));
        json_array_foreach(sc_items(p), i, it)
        {
            for (int s = 0; s < n; s++)
                if (!strcmp(seen[s], kit_jstr_or(it, "id")))
                    fail_msg("%s: '%s' again on page %d", query,
                             kit_jstr_or(it, "title"), pages + 1);
            if (n == SC_MAX_SEEN)
                fail_msg("%s: more than %d items", query, SC_MAX_SEEN);
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
        if (json_array_size(sc_items(p)) == 0)
            fail_msg("%s: an empty page with a next_cursor", q);
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(p);
        if (between)
            between(pages);
        if (pages > SC_MAX_SEEN)
            fail_msg("%s: paging does not end", query);
    }
    return n;
}
