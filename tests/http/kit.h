/* Stockroom — the one set of request helpers every HTTP test shares: a
 * request, one assertion for status and error code, JSON getters, and the
 * steps many tests take (sign up, approve an image, buy a pack). A test
 * names its server once with kit_use(); the helpers talk to that one. */
#ifndef STOCKROOM_KIT_H
#define STOCKROOM_KIT_H

#include <jansson.h>

#include "harness.h"

/* The server the helpers below talk to; s is borrowed and must outlive
 * their use. */
void kit_use(struct th_server *s);

/* One request as the holder of token (NULL: anonymous), with an
 * Idempotency-Key when key is not NULL and a JSON body when body is not
 * NULL. Fills r (th_resp_free). Returns the status; fails the test when no
 * answer comes. */
long kit_call(const char *method, const char *path, const char *token,
              const char *key, const char *body, struct th_resp *r);

/* The one way every helper sends a request: to s, as the holder of token
 * (may be NULL), with extra header lines (NULL-terminated, at most 8, may
 * be NULL), an Idempotency-Key when key is not NULL and a body when body
 * is not NULL. Fills r (th_resp_free); returns the status, or -1 with r
 * zeroed when no answer came. For tests that run more than one server. */
long kit_try_on(struct th_server *s, const char *method, const char *path,
                const char *token, const char *const *extra, const char *key,
                const char *body, struct th_resp *r);

/* kit_call() with extra header lines ("Name: value", NULL-terminated, may
 * be NULL) instead of an idempotency key. */
long kit_call_h(const char *method, const char *path, const char *token,
                const char *const *headers, const char *body,
                struct th_resp *r);

/* The same, but a missing answer (a server that is down) is status -1 with
 * r zeroed instead of a failure. */
long kit_try(const char *method, const char *path, const char *token,
             const char *key, const char *body, struct th_resp *r);

/* Fail the test unless r has the status and, for 4xx and 5xx, exactly the
 * error code: every refusal a test expects names its code, so code may be
 * NULL only for a success. what names the request in the message. */
void kit_expect(const struct th_resp *r, long status, const char *code,
                const char *what);

/* kit_call() then kit_expect(); returns the body's JSON with a reference
 * the caller drops (NULL for an empty or non-JSON body). */
json_t *kit_want(const char *method, const char *path, const char *token,
                 const char *body, long status, const char *code);

/* kit_want() for a request whose body does not matter; who names the
 * caller in the message. */
void kit_check(const char *method, const char *path, const char *token,
               const char *body, long status, const char *code,
               const char *who);

/* The integer or string member k of j; fail the test when it is missing or
 * of another type. The string belongs to j. */
json_int_t kit_jint(const json_t *j, const char *k);
const char *kit_jstr(const json_t *j, const char *k);

/* The string member k of j, or "" when it is missing (belongs to j). */
const char *kit_jstr_or(const json_t *j, const char *k);

/* An Idempotency-Key no other request of this process used. */
void kit_fresh_key(char buf[64], const char *what);

/* GET /healthz answers 200. */
int kit_healthy(void);

/* Sign up a fresh user with a unique email made from prefix and sign in;
 * the bearer token into token. Fails the test on error. */
void kit_new_user(const char *prefix, char token[128]);

/* An account made with `stockroom user add --role role`, signed in; the
 * token into token. Fails the test on error. */
void kit_staff(const char *prefix, const char *role, char token[128]);

/* 1 when the user object's "roles" array holds role. */
int kit_has_role(const json_t *user, const char *role);

/* GET /api/v1/me as token: the user's id into id. */
void kit_my_id(const char *token, char id[64]);

/* GET /api/v1/me as token: the user's credits. */
json_int_t kit_credits(const char *token);

/* Wait (up to ms) until the image reaches status as seen by token; 1 if it
 * did. */
int kit_wait_status(const char *token, const char *id, const char *status,
                    int ms);

/* Wait for image id (uploaded by owner) to reach review, then approve it
 * as staff. Fails the test on error. */
void kit_approve(const char *owner, const char *staff, const char *id);

/* Buy credit pack ("10", "30", "100") under a fresh key; the purchase id
 * into pid (may be NULL). Fails the test unless it is a 201. */
void kit_buy(const char *token, const char *pack, char pid[64]);

/* Ask for a licence of image under a fresh key; returns the status and
 * fills r (th_resp_free). */
long kit_licence(const char *token, const char *image, const char *size,
                 const char *type, struct th_resp *r);

#endif
