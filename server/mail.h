/* Stockroom — outgoing mail: one sender thread that renders queued outbox
 * messages as MIME (multipart/alternative, UTF-8, RFC 2047 headers) and
 * hands them to an SMTP server through libcurl, or, without --smtp-url,
 * writes each as an .eml file under DATA/outbox. */
#ifndef STOCKROOM_MAIL_H
#define STOCKROOM_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct outbox_msg;

/* Start the sender; port is the bound HTTP port, for links when no
 * --public-url is set. Creates DATA/outbox. 0 or -1 (said why). */
int mail_start(struct app *app, unsigned short port);

/* Something was queued: look now rather than at the next tick. */
void mail_wake(struct app *app);

/* Stop the sender, finishing the message in hand. Accepts a stopped one. */
void mail_stop(struct app *app);

/* Render message m (its recipient's name in name, may be "") as a complete
 * RFC 5322 message with CRLF line ends; base is the store's URL for links
 * and unsub the account's unsubscribe token (may be ""). Caller frees.
 * NULL when the message cannot be made (an address with CR or LF, an
 * unknown kind). */
char *mail_render(const struct outbox_msg *m, const char *name,
                  const char *unsub, const char *base, const char *from,
                  int64_t now);

/* "Name <addr>" or "addr": the bare address into out. 0, or -1 when it is
 * not one line or does not fit. */
int mail_addr_of(const char *from, char *out, size_t len);

#endif
