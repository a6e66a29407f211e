/* Stockroom — the catalogue the search tests run against (searchcat.c)
 * and their search helpers. A test file runs sc_setup and sc_teardown as
 * its group fixtures; each file gets its own server and catalogue. */
#ifndef STOCKROOM_SEARCHCAT_H
#define STOCKROOM_SEARCHCAT_H

#include <jansson.h>
#include <stddef.h>

#include "harness.h"

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

struct sc_img {
    const char *file; /* under the corpus's real/; NULL: made */
    const char *tag;  /* non-NULL: upload a byte-unique copy */
    const char *title, *desc, *keywords;
    int dora; /* 1: dora's, else carl's */
    enum fate fate;
    char id[64];
    int approved;
};

extern struct th_server sc_srv;
extern struct sc_img sc_imgs[N_IMG];
extern char sc_carl[128], sc_dora[128], sc_buyer[128], sc_admin[128],
    sc_reviewer[128];
extern char sc_carl_id[64], sc_dora_id[64];

/* The colours search knows, as the API spells them. */
#define SC_N_PALETTE 12
extern const char *const sc_palette[SC_N_PALETTE];

/* Start the server, upload the catalogue, wait for it to be processed and
 * review it; stop the server and remove its files. cmocka group fixtures. */
int sc_setup(void **state);
int sc_teardown(void **state);

/* Percent-encode every byte of s (n bytes) but the unreserved ones. */
void sc_enc(const char *s, size_t n, char *out, size_t cap);

/* GET /api/v1/images?query anonymously, expecting 200: the JSON (the
 * caller decrefs). */
json_t *sc_search(const char *query);

/* Search with q (plain text, encoded here) and more parameters (may be
 * NULL). */
json_t *sc_search_q(const char *q, const char *more);

/* The items array of a page (belongs to page); fails the test without. */
json_t *sc_items(json_t *page);

/* Position of id in a list of items, or -1. */
int sc_pos_of(json_t *list, const char *id);

/* Which of the catalogue's images an id is, or -1. */
int sc_which(const char *id);

/* The items of list as the catalogue's titles, for messages; into buf. */
const char *sc_names(json_t *list, char *buf, size_t len);

/* The set of ids in list is exactly the images in want (n of them). */
void sc_assert_exactly(json_t *list, const int *want, int n, const char *what);

/* Approve image k as the admin. */
void sc_approve(int k);

/* How many of the catalogue's images are approved. */
int sc_n_approved(void);

/* Walk every page of query with limit=2, calling between(page) (may be
 * NULL) after each page; the ids into seen, SC_MAX_SEEN at most, and no
 * duplicates allowed. Returns the count. */
#define SC_MAX_SEEN 64
int sc_walk(const char *query, char seen[][64], void (*between)(int));

#endif
