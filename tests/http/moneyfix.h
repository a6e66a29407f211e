/* Stockroom — the fixture the money tests run against (moneyfix.c) and
 * their licence helpers. A test file runs mf_setup and mf_teardown as its
 * group fixtures; each file gets its own server and books. */
#ifndef STOCKROOM_MONEYFIX_H
#define STOCKROOM_MONEYFIX_H

#include "harness.h"

#define MF_IMAGE "real/17-plasma-BytheWater-2560x1600.jpg" /* 2560 x 1600 */
#define MF_PENDING_IMAGE "real/18-plasma-Grey-2560x1600.jpg"
#define MF_GPS_IMAGE "real/21-forensics-IMG_1054.JPG" /* 1280 x 960 */

extern struct th_server mf_srv;
extern char mf_admin_tok[128];
extern char mf_contrib_tok[128];
extern char mf_image_id[64]; /* MF_IMAGE, approved, for sale */
extern char mf_gps_id[64];   /* MF_GPS_IMAGE, approved; its original has GPS */
extern char mf_pending_id[64]; /* MF_PENDING_IMAGE, never reviewed */

/* Start the server, make the admin and the contributor, upload and approve
 * the photos; stop the server, failing unless it stops cleanly and
 * `stockroom ledger verify` passes. cmocka group fixtures. */
int mf_setup(void **state);
int mf_teardown(void **state);

/* Ask for a licence of image as token; key NULL: a fresh one. Fills r
 * (th_resp_free). */
void mf_licence_req(const char *token, const char *image, const char *size,
                    const char *type, const char *key, struct th_resp *r);

/* A licence of mf_image_id that must succeed; its id into id (may be
 * NULL). */
void mf_licence_ok(const char *token, const char *size, const char *type,
                   char id[64]);

/* GET the licensed file of licence id as token. Fills r (th_resp_free). */
void mf_download(const char *token, const char *id, struct th_resp *r);

#endif
