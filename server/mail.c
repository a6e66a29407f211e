/* Stockroom — the mail sender: one thread over the outbox. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"

#define TICK_MS 200       /* a message waits at most this long, awake */
#define BACKOFF_MAX_S 900 /* retries slow down to one per 15 minutes */
#define DIGEST_CHECK_S                                                         \
    60 /* due sales digests are looked for at least this often */

struct mailer {
    struct app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int woken;
    char base[300]; /* links in messages */
    char dir[1100]; /* DATA/outbox when no SMTP server is set */
};

enum delivery { SENT, RETRY, GIVE_UP };

/* The message body, read by libcurl in pieces. */
struct upload {
    const char *p;
    size_t left;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t take = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->p, take);
    u->p += take;
    u->left -= take;
    return take;
}

static enum delivery
send_smtp(struct mailer *ml, const struct outbox_msg *m, const char *text,
          char why[256])
{
    const struct config *cfg = &ml->app->cfg;
    struct upload up = {text, strlen(text)};
    struct curl_slist *rcpt = NULL;
    char from[300], to[300], addr[256];
    enum delivery d = RETRY;
    long code = 0;
    CURLcode rc;
    CURL *c = curl_easy_init();

    if (!c || mail_addr_of(cfg->mail_from, addr, sizeof addr) < 0) {
        snprintf(why, 256, "cannot start a transfer");
        goto out;
    }
    snprintf(from, sizeof from, "<%s>", addr);
    snprintf(to, sizeof to, "<%s>", m->to_addr);
    rcpt = curl_slist_append(NULL, to);
    curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    /* STARTTLS whenever the server offers it; with --smtp-require-tls a
     * server that does not is refused before anything is sent. */
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     cfg->smtp_require_tls ? (long)CURLUSESSL_ALL
                                           : (long)CURLUSESSL_TRY);
    if (cfg->smtp_ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
    if (cfg->smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        d = SENT;
        goto out;
    }
    snprintf(why, 256, "%s (SMTP %ld)", curl_easy_strerror(rc), code);
    /* A 5xx reply to the message itself is final; a refused log-in or TLS
     * is the operator's to fix, so those keep retrying until give-up. */
    if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED &&
        rc != CURLE_USE_SSL_FAILED)
        d = GIVE_UP;
out:
    curl_slist_free_all(rcpt);
    if (c)
        curl_easy_cleanup(c);
    return d;
}

/* Without an SMTP server the message becomes DATA/outbox/ID.eml, written
 * whole and renamed into place, so a reader never sees half of one and a
 * second write after a crash replaces rather than duplicates it. */
static enum delivery
send_file(struct mailer *ml, const struct outbox_msg *m, const char *text,
          char why[256])
{
    char path[1200], tmp[1250];
    size_t len = strlen(text);
    int fd;

    snprintf(path, sizeof path, "%s/%lld.eml", ml->dir, (long long)m->id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 ||
        close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(why, 256, "cannot write %lld.eml: %s", (long long)m->id,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return RETRY;
    }
    log_info("mail %lld (%s) to %s written to %s", (long long)m->id, m->kind,
             m->to_addr, path);
    return SENT;
}

static void
deliver(struct mailer *ml, struct outbox_msg *m, int64_t now)
{
    struct app *app = ml->app;
    struct acc_user u;
    char err[DB_ERR_LEN], why[256] = "";
    enum delivery d;
    char *text;
    int64_t next;

    memset(&u, 0, sizeof u);
    if (m->user_id[0] && acc_user_get(app->db, m->user_id, &u, err) != DB_OK)
        memset(&u, 0, sizeof u);
    text = mail_render(m, u.name, u.unsub_token, ml->base, app->cfg.mail_from,
                       now);
    if (!text) {
        snprintf(why, sizeof why, "the message could not be made");
        d = GIVE_UP;
    } else if (app->cfg.smtp_url[0]) {
        d = send_smtp(ml, m, text, why);
    } else {
        d = send_file(ml, m, text, why);
    }
    free(text);
    if (d == SENT) {
        if (outbox_mark_sent(app->db, m->id, now, err) != DB_OK)
            log_error("mail %lld: sent, but not recorded: %s", (long long)m->id,
                      err);
        else if (app->cfg.smtp_url[0])
            log_info("mail %lld (%s) handed to the SMTP server",
                     (long long)m->id, m->kind);
        return;
    }
    /* 1, 2, 4 ... seconds, then every BACKOFF_MAX_S, until a day (by
     * default) has passed since it was queued. */
    next = now + (m->attempts < 10 ? (1LL << m->attempts) : BACKOFF_MAX_S);
    if (next > now + BACKOFF_MAX_S)
        next = now + BACKOFF_MAX_S;
    if (d == GIVE_UP || now - m->created_at >= app->cfg.mail_give_up_s)
        next = 0;
    log_warn("mail %lld (%s): %s; %s", (long long)m->id, m->kind, why,
             next ? "will retry" : "marked failed");
    if (outbox_mark_failed(app->db, m->id, next, why, err) != DB_OK)
        log_error("mail %lld: %s", (long long)m->id, err);
}

static void *
run(void *arg)
{
    struct mailer *ml = arg;
    int64_t next_digest = 0;

    for (;;) {
        struct outbox_msg m;
        char err[DB_ERR_LEN];
        int64_t now = (int64_t)time(NULL);
        struct timespec until;
        int rc;

        pthread_mutex_lock(&ml->lock);
        if (ml->stop) {
            pthread_mutex_unlock(&ml->lock);
            break;
        }
        ml->woken = 0;
        pthread_mutex_unlock(&ml->lock);
        if (now >= next_digest) {
            rc = outbox_queue_digests(ml->app->db,
                                      ml->app->cfg.digest_interval_s, now, err);
            if (rc < 0)
                log_error("sales digests: %s", err);
            next_digest = now + (ml->app->cfg.digest_interval_s < DIGEST_CHECK_S
                                     ? ml->app->cfg.digest_interval_s
                                     : DIGEST_CHECK_S);
        }
        rc = outbox_next(ml->app->db, now, &m, err);
        if (rc == DB_OK) {
            deliver(ml, &m, now);
            outbox_msg_release(&m);
            continue;
        }
        if (rc != DB_ENOTFOUND)
            log_error("outbox: %s", err);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&ml->lock);
        while (!ml->stop && !ml->woken &&
               pthread_cond_timedwait(&ml->wake, &ml->lock, &until) == 0)
            ;
        pthread_mutex_unlock(&ml->lock);
    }
    return NULL;
}

int
mail_start(struct app *app, unsigned short port)
{
    struct mailer *ml = calloc(1, sizeof *ml);

    if (!ml)
        return -1;
    ml->app = app;
    if (app->cfg.public_url[0])
        snprintf(ml->base, sizeof ml->base, "%s", app->cfg.public_url);
    else
        snprintf(ml->base, sizeof ml->base, "http://%s:%u",
                 app->cfg.listen_host, port);
    if (ml->base[strlen(ml->base) - 1] == '/')
        ml->base[strlen(ml->base) - 1] = '\0';
    snprintf(ml->dir, sizeof ml->dir, "%s/outbox", app->cfg.data_dir);
    if (!app->cfg.smtp_url[0] && mkdir(ml->dir, 0750) < 0 && errno != EEXIST) {
        fprintf(stderr, "stockroom: cannot create %s: %s\n", ml->dir,
                strerror(errno));
        free(ml);
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&ml->lock, NULL);
    pthread_cond_init(&ml->wake, NULL);
    if (pthread_create(&ml->thread, NULL, run, ml) != 0) {
        pthread_cond_destroy(&ml->wake);
        pthread_mutex_destroy(&ml->lock);
        free(ml);
        return -1;
    }
    app->mailer = ml;
    if (app->cfg.smtp_url[0])
        log_info("mail goes to %s%s", app->cfg.smtp_url,
                 app->cfg.smtp_require_tls ? " (TLS required)" : "");
    else
        log_info("mail is written to %s (no --smtp-url)", ml->dir);
    return 0;
}

void
mail_wake(struct app *app)
{
    struct mailer *ml = app->mailer;

    if (!ml)
        return;
    pthread_mutex_lock(&ml->lock);
    ml->woken = 1;
    pthread_cond_signal(&ml->wake);
    pthread_mutex_unlock(&ml->lock);
}

void
mail_stop(struct app *app)
{
    struct mailer *ml = app->mailer;

    if (!ml)
        return;
    pthread_mutex_lock(&ml->lock);
    ml->stop = 1;
    pthread_cond_signal(&ml->wake);
    pthread_mutex_unlock(&ml->lock);
    pthread_join(ml->thread, NULL);
    pthread_cond_destroy(&ml->wake);
    pthread_mutex_destroy(&ml->lock);
    free(ml);
    app->mailer = NULL;
}
