/* Stockroom — the fixture the lightbox tests run against (lbfix.c) and
 * their helpers. A test file runs lf_setup and lf_teardown as its group
 * fixtures; each file gets its own server. */
#ifndef STOCKROOM_LBFIX_H
#define STOCKROOM_LBFIX_H

#include <jansson.h>
#include <stddef.h>

#include "harness.h"

enum {
    FLOWER,
    LANE,
    CAT,
    HARBOUR,
    ROCKET,
    DOOMED,
    PENDING_IMG,
    REJECTED,
    N_IMG
};

struct lf_img {
    const char *file, *title;
    int fate; /* 0 approve, 1 leave pending, 2 reject */
    char id[64];
};

extern struct th_server lf_srv;
extern struct lf_img lf_imgs[N_IMG];
extern char lf_carl[128];                 /* the contributor */
extern char lf_ann[128], lf_ann_csrf[64]; /* the buyer of the lightboxes */
extern char lf_ben[128];                  /* another buyer */
extern char lf_admin[128];

/* Start the server, sign everyone in, upload and review the photos; stop
 * the server. cmocka group fixtures. */
int lf_setup(void **state);
int lf_teardown(void **state);

/* POST /api/v1/lightboxes {name} as token: the new lightbox's id. */
void lf_create(const char *token, const char *name, char id[64]);

/* The path of lightbox id, with suffix appended (may be NULL). */
void lf_lb_path(char *out, size_t len, const char *id, const char *suffix);

/* The path of photo k in lightbox id. */
void lf_item_path(char *out, size_t len, const char *id, int k);

/* GET lightbox id as token (NULL: anonymous) with an optional query,
 * expecting 200: its JSON (the caller decrefs). */
json_t *lf_open_lb(const char *id, const char *token, const char *query);

/* PUT photo k into lightbox id as token, expecting want (a 422 is
 * not_approved). */
void lf_put_image(const char *id, int k, const char *token, long want);

/* The lightbox's items are exactly want (in that order). */
void lf_assert_items(json_t *lb, const int *want, int n, const char *what);

/* Lightbox id in a list of lightboxes (borrowed), or NULL. */
json_t *lf_listed(json_t *list, const char *id);

#endif
