/* Stockroom — the lightbox tests' fixture: a server, a contributor
 * ("carl") whose photos are approved, left pending or rejected, two buyers
 * ("ann", who also signs in by cookie, and "ben") and an admin; and the
 * lightbox helpers the tests share. */
#include <ctype.h>
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
#include "lbfix.h"
#include "util.h"

#define PW "correct horse battery"
#define PROCESS_MS 120000 /* every upload processed, sanitizer build */

struct th_server lf_srv;
char lf_carl[128];                 /* the contributor */
char lf_ann[128], lf_ann_csrf[64]; /* the buyer whose lightboxes these are */
char lf_ben[128];                  /* another buyer */
char lf_admin[128];

struct lf_img lf_imgs[N_IMG] = {
    [FLOWER] = {"28-pillow-flower.jpg", "Garden flower", 0, ""},
    [LANE] = {"30-goexif-sample1.jpg", "Country lane", 0, ""},
    [CAT] = {"59-skimage-chelsea.png", "Tabby cat", 0, ""},
    [HARBOUR] = {"66-vips-1.webp", "Harbour boats", 0, ""},
    [ROCKET] = {"34-skimage-rocket.jpg", "Rocket launch", 0, ""},
    [DOOMED] = {"33-mpl-grace_hopper.jpg", "Soon taken down", 0, ""},
    [PENDING_IMG] = {"57-goximage-yellow_rose.png", "Pending rose", 1, ""},
    [REJECTED] = {"68-rust-tiff-kodim02-lzw.tif", "Rejected tiff", 2, ""},
};

static const char *const flags[] = {"--min-megapixels", "0.0001", "--workers",
                                    "2", NULL};

/* ---- requests --------------------------------------------------------- */

/* POST /api/v1/lightboxes {name} as token: the new lightbox's id. */
void
lf_create(const char *token, const char *name, char id[64])
{
    json_t *body = json_pack("{s:s}", "name", name);
    char *text = json_dumps(body, 0);
    json_t *lb = kit_want("POST", "/api/v1/lightboxes", token, text, 201, NULL);

    snprintf(id, 64, "%s", kit_jstr_or(lb, "id"));
    assert_true(id[0] != '\0');
    json_decref(lb);
    free(text);
    json_decref(body);
}

void
lf_lb_path(char *out, size_t len, const char *id, const char *suffix)
{
    snprintf(out, len, "/api/v1/lightboxes/%s%s", id, suffix ? suffix : "");
}

void
lf_item_path(char *out, size_t len, const char *id, int k)
{
    snprintf(out, len, "/api/v1/lightboxes/%s/images/%s", id, lf_imgs[k].id);
}

/* GET the lightbox as token (with ?query when not NULL), expecting 200. */
json_t *
lf_open_lb(const char *id, const char *token, const char *query)
{
    char path[700];

    if (snprintf(path, sizeof path, "/api/v1/lightboxes/%s%s%s", id,
                 query ? "?" : "", query ? query : "") >= (int)sizeof path)
        fail_msg("query too long");
    return kit_want("GET", path, token, NULL, 200, NULL);
}

void
lf_put_image(const char *id, int k, const char *token, long want)
{
    char path[200];

    lf_item_path(path, sizeof path, id, k);
    kit_check("PUT", path, token, NULL, want,
              want == 422 ? "not_approved" : NULL, "PUT");
}

/* The lightbox's items are exactly want (in that order). */
void
lf_assert_items(json_t *lb, const int *want, int n, const char *what)
{
    json_t *items = json_object_get(lb, "items");

    assert_true(json_is_array(items));
    if ((int)json_array_size(items) != n)
        fail_msg("%s: %zu items, expected %d", what, json_array_size(items), n);
    for (int i = 0; i < n; i++)
        if (strcmp(kit_jstr_or(json_array_get(items, (size_t)i), "id"),
                   lf_imgs[want[i]].id) != 0)
            fail_msg("%s: item %d is '%s', expected '%s'", what, i,
                     kit_jstr_or(json_array_get(items, (size_t)i), "title"),
                     lf_imgs[want[i]].title);
    assert_int_equal(kit_jint(lb, "image_count"), n);
}

/* The owner's list entry for id (borrowed from list), or NULL. */
json_t *
lf_listed(json_t *list, const char *id)
{
    json_t *it;
    size_t i;

    json_array_foreach(json_object_get(list, "items"), i,
                       it) if (!strcmp(kit_jstr_or(it, "id"), id)) return it;
    return NULL;
}

/* ---- setup ------------------------------------------------------------ */

static int
processed(void *arg)
{
    (void)arg;
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        struct th_resp r;
        int busy;

        snprintf(path, sizeof path, "/api/v1/images/%s", lf_imgs[k].id);
        if (kit_try("GET", path, lf_carl, NULL, NULL, &r) < 0)
            return 0;
        busy = r.status != 200 ||
               !strcmp(kit_jstr_or(r.json, "status"), "processing");
        th_resp_free(&r);
        if (busy)
            return 0;
    }
    return 1;
}

int
lf_setup(void **state)
{
    char email[128];

    (void)state;
    if (th_start(&lf_srv, flags) < 0)
        return -1;
    kit_use(&lf_srv);
    kit_new_user("carl", lf_carl);
    kit_new_user("ben", lf_ben);
    /* ann signs in by hand: the CSRF token is needed for the cookie. */
    tu_email("ann", email, sizeof email);
    if (th_signup(&lf_srv, email, PW, "ann") != 201 ||
        th_login(&lf_srv, email, PW, lf_ann, lf_ann_csrf) != 201)
        return -1;
    kit_staff("admin", "admin", lf_admin);
    for (int k = 0; k < N_IMG; k++) {
        char rel[200], path[512];
        const char *fields[] = {"title", lf_imgs[k].title, "keywords",
                                "lightbox, test", NULL};
        struct th_resp r;

        snprintf(rel, sizeof rel, "real/%s", lf_imgs[k].file);
        if (th_upload(&lf_srv, "/api/v1/images", lf_carl,
                      th_corpus(rel, path, sizeof path), NULL, fields,
                      &r) < 0 ||
            r.status != 202) {
            fprintf(stderr, "upload %s: %ld %s\n", rel, r.status, r.body);
            return -1;
        }
        snprintf(lf_imgs[k].id, sizeof lf_imgs[k].id, "%s",
                 kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
    if (!th_poll(processed, NULL, PROCESS_MS)) {
        fprintf(stderr, "uploads still processing after %d ms\n", PROCESS_MS);
        return -1;
    }
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        struct th_resp r;

        if (lf_imgs[k].fate == 1)
            continue;
        snprintf(path, sizeof path, "/api/v1/images/%s/review", lf_imgs[k].id);
        kit_call(
            "POST", path, lf_admin, NULL,
            lf_imgs[k].fate == 0
                ? "{\"decision\":\"approve\"}"
                : "{\"decision\":\"reject\",\"reason_code\":\"poor_quality\"}",
            &r);
        if (r.status != 200) {
            fprintf(stderr, "review %s: %ld %s\n", lf_imgs[k].title, r.status,
                    r.body);
            th_resp_free(&r);
            return -1;
        }
        th_resp_free(&r);
    }
    return 0;
}

int
lf_teardown(void **state)
{
    int rc = th_stop(&lf_srv);

    (void)state;
    th_cleanup(&lf_srv);
    return rc;
}
