/* Stockroom — reading the mail a test server sent, as a person would: the
 * .eml files of the embedded default (DATA/outbox), decoded from
 * quoted-printable, and the links in them. */
#ifndef STOCKROOM_TEST_MAILBOX_H
#define STOCKROOM_TEST_MAILBOX_H

#include <stddef.h>

#include "harness.h"

/* Decode quoted-printable text in place (soft line breaks and =XX). */
void tm_qp_decode(char *s);

/* The token of the newest link to page ("verify.html", "reset.html") in a
 * message to email under dir/outbox, written after skip messages to that
 * address were already there (0: any). Polls for ms. 0, or -1. */
int tm_outbox_token(const char *dir, const char *email, const char *page,
                    char *token, size_t len, int ms);

/* How many .eml files under dir/outbox are addressed to email. */
int tm_outbox_count(const char *dir, const char *email);

/* After a sign-up through the embedded default: follow the verification
 * link of the newest message to email. Returns the status of the POST
 * (204), 0 when the server writes no outbox folder (SMTP mode), -1 when no
 * link came. */
long tm_verify_from_outbox(struct th_server *s, const char *email);

#endif
