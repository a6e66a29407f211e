/* Stockroom — the fixture the account tests run against (acctfix.c) and
 * their helpers. A test file runs af_setup and af_teardown as its group
 * fixtures; each file gets its own server. */
#ifndef STOCKROOM_ACCTFIX_H
#define STOCKROOM_ACCTFIX_H

#include <stddef.h>

#include "harness.h"

#define PW "correct horse battery"

extern struct th_server af_srv;      /* default flags, shared by most tests */
extern struct th_server af_extra[3]; /* dedicated servers with odd flags */

/* Start af_srv; stop it and remove every server's files. cmocka group
 * fixtures. */
int af_setup(void **state);
int af_teardown(void **state);

/* One request to s with header lines hdrs (may be NULL) and a JSON text
 * body (may be NULL); fills r; fails the test when no answer comes. */
void af_send_json(struct th_server *s, const char *method, const char *path,
                  const char *const *hdrs, const char *body, struct th_resp *r);

/* Assert the status, the error code and the security headers; frees r. */
void af_expect_error(struct th_resp *r, long status, const char *code,
                     const char *what);

/* Sign up or sign in on s; returns the status. The answer into out when
 * it is not NULL (th_resp_free), else dropped. */
long af_signup(struct th_server *s, const char *email, const char *pw,
               const char *name, struct th_resp *out);
long af_login(struct th_server *s, const char *email, const char *pw,
              struct th_resp *out);

/* GET /api/v1/me on s with one header (may be NULL); returns the status. */
long af_me_status(struct th_server *s, const char *hdr);

/* A sign-in that must be refused with 401 and code. */
void af_login_refused(struct th_server *s, const char *email, const char *pw,
                      const char *code);

/* GET /api/v1/me with one header (may be NULL) must be refused with 401
 * and code. */
void af_me_refused(struct th_server *s, const char *hdr, const char *code);

/* A new account on s, signed in: its email into email, token and csrf. */
void af_new_session(struct th_server *s, const char *prefix, char *email,
                    size_t email_len, char token[128], char csrf[64]);

#endif
