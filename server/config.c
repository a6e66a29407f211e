/* Stockroom — configuration from defaults, environment and flags. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* OPT_BOOL takes no value on the command line ("--flag" turns it on);
 * its variable takes 0 or 1. */
enum opt_kind {
    OPT_LISTEN,
    OPT_STR,
    OPT_INT,
    OPT_I64,
    OPT_SIZE,
    OPT_MP,
    OPT_BOOL
};

struct opt {
    const char *flag; /* --flag; the variable is STOCKROOM_FLAG */
    enum opt_kind kind;
    size_t off; /* field in struct config */
    size_t len; /* for strings: the field's size */
    int64_t min, max;
    const char *help;
};

#define KEYWORDS_MAX 50 /* catalog.h's CAT_KEYWORDS_MAX */
#define F(field) offsetof(struct config, field)
#define S(field) sizeof(((struct config *)0)->field)

static const struct opt opts[] = {
    {"listen", OPT_LISTEN, 0, 0, 0, 0, "ADDR:PORT to serve on"},
    {"data", OPT_STR, F(data_dir), S(data_dir), 0, 0,
     "data directory (database, originals, renditions)"},
    {"public-url", OPT_STR, F(public_url), S(public_url), 0, 0,
     "URL the store is reached at, for links"},
    {"web", OPT_STR, F(web_dir), S(web_dir), 0, 0,
     "folder of the browser's files"},
    {"port-file", OPT_STR, F(port_file), S(port_file), 0, 0,
     "write the bound port here (for --listen HOST:0)"},
    {"workers", OPT_INT, F(workers), 0, 1, 64, "image processing threads"},
    {"http-threads", OPT_INT, F(http_threads), 0, 1, 256,
     "HTTP worker threads"},
    {"max-connections", OPT_INT, F(max_connections), 0, 1, 100000,
     "open connections at most"},
    {"connection-timeout", OPT_INT, F(conn_timeout_s), 0, 1, 3600,
     "seconds before an idle or slow client is cut off"},
    {"max-upload-mb", OPT_SIZE, F(upload_limit), 0, 1, 4096,
     "largest upload in MiB"},
    {"rendition-cache", OPT_INT, F(rcache_files), 0, 0, 100000,
     "public thumbnails and previews kept open"},
    {"min-megapixels", OPT_MP, F(min_pixels), 0, 0, 1000,
     "smallest photo accepted, megapixels (decimals allowed)"},
    {"max-megapixels", OPT_MP, F(max_pixels), 0, 1, 1000,
     "largest photo accepted, megapixels"},
    {"decode-deadline-ms", OPT_INT, F(decode_deadline_ms), 0, 100, 3600000,
     "time one decode may take"},
    {"session-ttl", OPT_I64, F(session_ttl_s), 0, 1, 31536000,
     "seconds a session lives"},
    {"login-window", OPT_INT, F(login_window_s), 0, 1, 86400,
     "seconds over which failed sign-ins are counted"},
    {"login-fail-pair", OPT_INT, F(login_fail_pair), 0, 1, 10000,
     "failed sign-ins per account from one client address per window"},
    {"login-fail-account", OPT_INT, F(login_fail_account), 0, 1, 100000,
     "failed sign-ins per account from all addresses per window"},
    {"login-fail-client", OPT_INT, F(login_fail_client), 0, 1, 10000,
     "failed sign-ins per client address per window"},
    {"login-table", OPT_INT, F(login_table), 0, 64, 16777216,
     "sign-in limiter entries at most (then new keys wait)"},
    {"trusted-proxy", OPT_STR, F(trusted_proxy), S(trusted_proxy), 0, 0,
     "ADDR[,ADDR]: peers whose X-Forwarded-For is believed"},
    {"metrics-token", OPT_STR, F(metrics_token), S(metrics_token), 0, 0,
     "Bearer token that opens /metrics on the public listener"},
    {"metrics-listen", OPT_STR, F(metrics_listen), S(metrics_listen), 0, 0,
     "ADDR:PORT serving /metrics without a token"},
    {"payout-min-cents", OPT_I64, F(payout_min_cents), 0, 0, 100000000,
     "smallest payout"},
    {"payment-provider", OPT_STR, F(payment_provider), S(payment_provider), 0,
     0, "'test' settles at once: for local use only"},
    {"min-keywords", OPT_INT, F(min_keywords), 0, 0, KEYWORDS_MAX,
     "keywords a photo needs (with a title) to go to review; 0: no rules"},
    {"brief-min-credits", OPT_I64, F(brief_min_credits), 0, 1, 100000,
     "smallest bounty of a brief, credits"},
    {"brief-royalty-bp", OPT_INT, F(brief_royalty_bp), 0, 0, 10000,
     "royalty of a brief award, basis points"},
    {"brief-day-seconds", OPT_I64, F(brief_day_s), 0, 1, 86400,
     "length of a day in brief deadlines and windows (tests shorten it)"},
    {"stripe-api-url", OPT_STR, F(stripe_api_url), S(stripe_api_url), 0, 0,
     "Stripe's API (tests point it at a fake)"},
    {"seller-name", OPT_STR, F(seller_name), S(seller_name), 0, 0,
     "the store's legal name, on receipts"},
    {"seller-address", OPT_STR, F(seller_address), S(seller_address), 0, 0,
     "the store's postal address, on receipts"},
    {"seller-tax-id", OPT_STR, F(seller_tax_id), S(seller_tax_id), 0, 0,
     "the store's tax id, on receipts"},
    {"log-level", OPT_STR, F(log_level), S(log_level), 0, 0,
     "debug, info, warn or error"},
    {"smtp-url", OPT_STR, F(smtp_url), S(smtp_url), 0, 0,
     "smtp://HOST:PORT or smtps://HOST:PORT; unset: .eml files in "
     "DATA/outbox (user and password from STOCKROOM_SMTP_USER and "
     "STOCKROOM_SMTP_PASSWORD)"},
    {"smtp-require-tls", OPT_BOOL, F(smtp_require_tls), 0, 0, 1,
     "never send mail without TLS"},
    {"smtp-ca-file", OPT_STR, F(smtp_ca_file), S(smtp_ca_file), 0, 0,
     "CA certificates to trust for the SMTP server"},
    {"mail-from", OPT_STR, F(mail_from), S(mail_from), 0, 0,
     "the From of every message"},
    {"reset-ttl", OPT_I64, F(reset_ttl_s), 0, 1, 604800,
     "seconds a password reset link is valid"},
    {"verify-ttl", OPT_I64, F(verify_ttl_s), 0, 1, 31536000,
     "seconds an address verification link is valid"},
    {"mail-give-up", OPT_I64, F(mail_give_up_s), 0, 1, 604800,
     "seconds of retries before a message is marked failed"},
    {"digest-interval", OPT_I64, F(digest_interval_s), 0, 1, 31536000,
     "seconds between two sales digests"},
    {"blob-store", OPT_STR, F(blob_store), S(blob_store), 0, 0,
     "where photos live: file or s3"},
    {"s3-endpoint", OPT_STR, F(s3_endpoint), S(s3_endpoint), 0, 0,
     "S3 endpoint URL (default: AWS for the region)"},
    {"s3-bucket", OPT_STR, F(s3_bucket), S(s3_bucket), 0, 0, "S3 bucket"},
    {"s3-region", OPT_STR, F(s3_region), S(s3_region), 0, 0, "S3 region"},
    {"s3-prefix", OPT_STR, F(s3_prefix), S(s3_prefix), 0, 0,
     "key prefix inside the bucket"},
    {"s3-path-style", OPT_BOOL, F(s3_path_style), 0, 0, 1,
     "address the bucket in the path (MinIO, most self-hosted stores)"},
    {"cache-dir", OPT_STR, F(cache_dir), S(cache_dir), 0, 0,
     "local read-through cache of the S3 store (default DATA/cache)"},
    {"cache-mb", OPT_I64, F(cache_mb), 0, 0, 16777216,
     "size of that cache in MiB"},
    {"rendition-base-url", OPT_STR, F(rendition_base_url),
     S(rendition_base_url), 0, 0,
     "public thumbnails and previews are linked under this URL (a CDN)"},
};

#define N_OPTS (sizeof opts / sizeof opts[0])

void
cfg_defaults(struct config *c)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (cores < 1)
        cores = 1;
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->data_dir, sizeof c->data_dir, "var");
    snprintf(c->web_dir, sizeof c->web_dir, "web");
    c->workers = (int)cores;
    /* Handlers block on Argon2 and on image checks, so the pool is a few
     * threads per core: one slow request must not stall the quick ones. */
    c->http_threads = (int)cores * 4;
    c->max_connections = 1024;
    c->conn_timeout_s = 30;
    /* libmicrohttpd zeroes a connection's memory for every request, so
     * it is kept small: 64 KiB holds headers and the 32 KiB upload
     * buffer. */
    c->conn_memory = 64 * 1024;
    c->json_limit = 64 * 1024;
    c->rcache_files = 256;
    c->upload_limit = 50LL * 1024 * 1024;
    c->min_pixels = 4000000;
    c->max_pixels = 100000000;
    c->max_aspect = 20;
    c->decode_deadline_ms = 30000;
    c->job_attempts = 3;
    c->session_ttl_s = 30LL * 24 * 3600;
    c->login_fail_pair = 5;
    c->login_fail_account = 50;
    c->login_fail_client = 20;
    c->login_window_s = 900;
    c->login_table = 1 << 20;
    c->argon_parallel = (int)cores;
    snprintf(c->log_level, sizeof c->log_level, "info");
    snprintf(c->payment_provider, sizeof c->payment_provider, "test");
    c->packs[0] = (struct cfg_pack){10, 1500};
    c->packs[1] = (struct cfg_pack){30, 3900};
    c->packs[2] = (struct cfg_pack){100, 11000};
    c->n_packs = 3;
    c->size_credits[0] = 1;
    c->size_credits[1] = 2;
    c->size_credits[2] = 4;
    c->size_credits[3] = 6;
    c->extended_credits = 30;
    c->tiers[0] = (struct cfg_tier){0, 2500};
    c->tiers[1] = (struct cfg_tier){100, 3000};
    c->tiers[2] = (struct cfg_tier){1000, 3500};
    c->tiers[3] = (struct cfg_tier){10000, 4000};
    c->n_tiers = 4;
    c->payout_min_cents = 2500;
    c->pack_refund_days = 14;
    snprintf(c->terms_version, sizeof c->terms_version, "2026-11");
    snprintf(c->mail_from, sizeof c->mail_from,
             "Stockroom <no-reply@example.com>");
    c->reset_ttl_s = 3600;
    c->verify_ttl_s = 7 * 24 * 3600;
    c->mail_give_up_s = 24 * 3600;
    c->digest_interval_s = 24 * 3600;
    snprintf(c->blob_store, sizeof c->blob_store, "file");
    snprintf(c->s3_region, sizeof c->s3_region, "us-east-1");
    c->cache_mb = 2048;
    c->min_keywords = 5;
    c->brief_min_credits = 20;
    c->brief_royalty_bp = 6000;
    c->brief_day_s = 86400;
    snprintf(c->stripe_api_url, sizeof c->stripe_api_url,
             "https://api.stripe.com");
    snprintf(c->seller_name, sizeof c->seller_name, "Stockroom");
}

static int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
cfg_parse_listen(const char *v, char *host, size_t hlen, unsigned short *port)
{
    const char *colon = strrchr(v, ':');
    int64_t p;
    size_t n;

    if (!colon || parse_i64(colon + 1, 0, 65535, &p) < 0)
        return -1;
    n = (size_t)(colon - v);
    if (n == 0 || n >= hlen)
        return -1;
    memcpy(host, v, n);
    host[n] = '\0';
    *port = (unsigned short)p;
    return 0;
}

static int
set_listen(struct config *c, const char *v)
{
    return cfg_parse_listen(v, c->listen_host, sizeof c->listen_host,
                            &c->listen_port);
}

/* Megapixels may carry decimals ("0.001"): parse as a fixed-point number of
 * pixels without going through a float. */
static int
parse_mp(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int64_t whole = 0, frac = 0, scale = 1000000;
    const char *p = s;

    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        whole = whole * 10 + (*p++ - '0');
        if (whole > max)
            return -1;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) && scale > 1) {
            scale /= 10;
            frac += (*p++ - '0') * scale;
        }
    }
    if (*p || whole < min)
        return -1;
    *out = whole * 1000000 + frac;
    return 0;
}

static int
set_opt(struct config *c, const struct opt *o, const char *v)
{
    char *base = (char *)c;
    int64_t n;

    switch (o->kind) {
    case OPT_LISTEN:
        return set_listen(c, v);
    case OPT_STR:
        if (strlen(v) >= o->len)
            return -1;
        memcpy(base + o->off, v, strlen(v) + 1);
        return 0;
    case OPT_INT:
        if (parse_i64(v, o->min, o->max, &n) < 0)
            return -1;
        *(int *)(void *)(base + o->off) = (int)n;
        return 0;
    case OPT_I64:
        if (parse_i64(v, o->min, o->max, &n) < 0)
            return -1;
        *(int64_t *)(void *)(base + o->off) = n;
        return 0;
    case OPT_SIZE:
        if (parse_i64(v, o->min, o->max, &n) < 0)
            return -1;
        *(int64_t *)(void *)(base + o->off) = n * 1024 * 1024;
        return 0;
    case OPT_MP:
        return parse_mp(v, o->min, o->max, (int64_t *)(void *)(base + o->off));
    case OPT_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
            n = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
            n = 0;
        else
            return -1;
        *(int *)(void *)(base + o->off) = (int)n;
        return 0;
    }
    return -1;
}

static int
check_proxies(const char *list)
{
    char one[64];

    while (*list) {
        size_t n = strcspn(list, ",");
        unsigned char bin[16];

        if (n == 0 || n >= sizeof one)
            return -1;
        memcpy(one, list, n);
        one[n] = '\0';
        if (inet_pton(AF_INET, one, bin) != 1 &&
            inet_pton(AF_INET6, one, bin) != 1)
            return -1;
        list += n + (list[n] == ',');
    }
    return 0;
}

static int
check(const struct config *c, char *err, size_t errlen)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    int ok = 0;

    for (size_t i = 0; i < 4; i++)
        ok |= !strcmp(c->log_level, levels[i]);
    if (!ok) {
        snprintf(err, errlen, "log level must be debug, info, warn or error");
        return -1;
    }
    if (strcmp(c->payment_provider, "test") != 0 &&
        strcmp(c->payment_provider, "stripe") != 0) {
        snprintf(err, errlen,
                 "unknown payment provider '%s' ('test' or 'stripe')",
                 c->payment_provider);
        return -1;
    }
    if (c->smtp_url[0] && strncmp(c->smtp_url, "smtp://", 7) != 0 &&
        strncmp(c->smtp_url, "smtps://", 8) != 0) {
        snprintf(err, errlen, "smtp-url must start with smtp:// or smtps://");
        return -1;
    }
    if (strpbrk(c->mail_from, "\r\n")) {
        snprintf(err, errlen, "mail-from must be one line");
        return -1;
    }
    if (strcmp(c->blob_store, "file") && strcmp(c->blob_store, "s3")) {
        snprintf(err, errlen, "blob store must be file or s3");
        return -1;
    }
    if (check_proxies(c->trusted_proxy) < 0) {
        snprintf(err, errlen,
                 "trusted-proxy must be addresses separated by commas");
        return -1;
    }
    if (c->metrics_listen[0]) {
        char host[64];
        unsigned short port;

        if (cfg_parse_listen(c->metrics_listen, host, sizeof host, &port) < 0) {
            snprintf(err, errlen, "metrics-listen must be ADDR:PORT");
            return -1;
        }
    }
    if (!strcmp(c->payment_provider, "stripe") &&
        (!*c->stripe_secret_key || !*c->stripe_webhook_secret)) {
        snprintf(err, errlen,
                 "--payment-provider stripe needs STOCKROOM_STRIPE_SECRET_KEY "
                 "and STOCKROOM_STRIPE_WEBHOOK_SECRET in the environment");
        return -1;
    }
    if (c->min_pixels > c->max_pixels) {
        snprintf(err, errlen, "min-megapixels is above max-megapixels");
        return -1;
    }
    return 0;
}

/* --public-url is read from STOCKROOM_PUBLIC_URL. */
static void
env_name(const char *flag, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "STOCKROOM_%s", flag);

    for (size_t j = 10; j < n && j < len; j++)
        buf[j] = buf[j] == '-' ? '_' : (char)toupper((unsigned char)buf[j]);
}

/* Secrets have no flag: a flag shows in ps and in shell history. */
static int
secrets_from_env(struct config *c, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t off, len;
    } sec[] = {
        {"STOCKROOM_STRIPE_SECRET_KEY", F(stripe_secret_key),
         S(stripe_secret_key)},
        {"STOCKROOM_STRIPE_WEBHOOK_SECRET", F(stripe_webhook_secret),
         S(stripe_webhook_secret)},
    };

    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++) {
        const char *v = getenv(sec[i].name);

        if (!v)
            continue;
        if (strlen(v) >= sec[i].len) {
            snprintf(err, errlen, "%s is too long", sec[i].name);
            return -1;
        }
        memcpy((char *)c + sec[i].off, v, strlen(v) + 1);
    }
    return 0;
}

int
cfg_from_env(struct config *c, char *err, size_t errlen)
{
    char name[64];

    if (secrets_from_env(c, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v;

        env_name(opts[i].flag, name, sizeof name);
        v = getenv(name);
        if (v && *v && set_opt(c, &opts[i], v) < 0) {
            snprintf(err, errlen, "bad value for %s: '%s'", name, v);
            return -1;
        }
    }
    /* Secrets come from the environment only: a command line is visible
     * to every user of the machine. */
    if (getenv("STOCKROOM_SMTP_USER"))
        snprintf(c->smtp_user, sizeof c->smtp_user, "%s",
                 getenv("STOCKROOM_SMTP_USER"));
    if (getenv("STOCKROOM_SMTP_PASSWORD"))
        snprintf(c->smtp_password, sizeof c->smtp_password, "%s",
                 getenv("STOCKROOM_SMTP_PASSWORD"));
    return check(c, err, errlen);
}

int
cfg_from_args(struct config *c, int argc, char **argv, int *rest, char *err,
              size_t errlen)
{
    int i = 0, kept = 0;

    while (i < argc) {
        const char *arg = argv[i] + 2;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct opt *o = NULL;
        const char *v;

        if (!strcmp(argv[i], "--")) {
            /* Everything after "--" is an operand, even "--data". */
            for (i++; i < argc; i++)
                argv[kept++] = argv[i];
            break;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            argv[kept++] = argv[i++];
            continue;
        }
        for (size_t j = 0; j < N_OPTS; j++) {
            if (strlen(opts[j].flag) == nlen &&
                !strncmp(opts[j].flag, arg, nlen))
                o = &opts[j];
        }
        if (!o) {
            /* A command's own flag: every one takes a value, which is kept
             * with it so that a value is never read as a global flag. */
            argv[kept++] = argv[i++];
            if (!eq && i < argc)
                argv[kept++] = argv[i++];
            continue;
        }
        if (eq) {
            v = eq + 1;
            i += 1;
        } else if (o->kind == OPT_BOOL) {
            /* A switch: present means on. */
            v = "1";
            i += 1;
        } else if (i + 1 < argc) {
            v = argv[i + 1];
            i += 2;
        } else {
            snprintf(err, errlen, "--%s needs a value", o->flag);
            return -1;
        }
        if (set_opt(c, o, v) < 0) {
            snprintf(err, errlen, "bad value for --%s: '%s'", o->flag, v);
            return -1;
        }
    }
    *rest = kept;
    return check(c, err, errlen);
}

void
cfg_usage(FILE *f)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char var[64];

        env_name(opts[i].flag, var, sizeof var);
        fprintf(f, "  --%-20s %s (%s)\n", opts[i].flag, opts[i].help, var);
    }
}
