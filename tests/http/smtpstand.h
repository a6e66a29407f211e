/* Stockroom — the SMTP stand-in for the HTTP tests: starts
 * tests/services/smtp/stand.mjs (smtp-server + mailparser) on a loopback
 * port and reads what it received, parsed as a mail client would. */
#ifndef STOCKROOM_SMTPSTAND_H
#define STOCKROOM_SMTPSTAND_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define TS_SMTP_USER "stockroom"
#define TS_SMTP_PASSWORD "letmein-smtp"

struct ts_smtp {
    pid_t pid;
    int port;
    int tls;       /* STARTTLS offered (and AUTH only after it) */
    char dir[256]; /* received mail, the certificate, the port file */
    char url[64];  /* smtp://127.0.0.1:PORT */
    char ca[300];  /* its self-signed certificate (tls only) */
};

/* A loopback port that was free a moment ago. */
int ts_free_port(void);

/* Start the stand-in with STARTTLS (tls 1) or without, on port (0: any);
 * reuses s->dir when set. Waits for it to listen. 0 or -1. */
int ts_smtp_start(struct ts_smtp *s, int tls, int port);

/* Stop it (SIGTERM, wait); keeps the folder. Remove the folder. */
void ts_smtp_stop(struct ts_smtp *s);
void ts_smtp_cleanup(struct ts_smtp *s);

/* Every message received so far to address to (NULL: all), oldest first,
 * as a JSON array of the parsed messages (caller json_decref). */
json_t *ts_smtp_mails(struct ts_smtp *s, const char *to);

/* Wait up to ms until at least n messages to to have arrived; then the
 * newest one (a new reference) or NULL. */
json_t *ts_smtp_wait(struct ts_smtp *s, const char *to, int n, int ms);

/* How many log-ins it refused. */
int ts_smtp_refused(struct ts_smtp *s);

/* The token of the link to page ("reset.html") in a parsed message's text
 * part. 0 or -1. */
int ts_link_token(json_t *mail, const char *page, char *token, size_t len);

#endif
