/* Stockroom — configuration: one struct, filled once from defaults, then
 * STOCKROOM_* environment variables, then command-line flags. */
#ifndef STOCKROOM_CONFIG_H
#define STOCKROOM_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_PACKS 8
#define CFG_MAX_TIERS 8

struct cfg_pack {
    int64_t credits;
    int64_t price_cents;
};

struct cfg_tier {
    int64_t min_sold; /* lifetime licences sold to reach it */
    int rate_bp;      /* royalty in basis points */
};

struct config {
    char listen_host[64];
    unsigned short listen_port;
    char data_dir[1024];
    char public_url[256];
    char web_dir[1024];
    char port_file[1024];
    int workers;      /* image processing threads */
    int http_threads; /* libmicrohttpd thread pool */
    unsigned max_connections;
    unsigned conn_timeout_s; /* idle or slow client cut off after this */
    size_t conn_memory;      /* libmicrohttpd per-connection buffer */
    size_t json_limit;       /* largest JSON request body */
    int rcache_files;        /* public renditions kept open */
    int64_t upload_limit;    /* largest upload, bytes */
    int64_t min_pixels;
    int64_t max_pixels;
    int max_aspect; /* long side : short side */
    int decode_deadline_ms;
    int job_attempts; /* a render job fails for good after this */
    int64_t session_ttl_s;
    int login_fail_pair;    /* failures per account from one address */
    int login_fail_account; /* failures per account per window */
    int login_fail_client;  /* failures per client address per window */
    int login_window_s;
    int login_table;    /* limiter entries at most */
    int argon_parallel; /* password hashes running at once */
    char log_level[8];
    char payment_provider[16]; /* "test": settles at once, local use only */
    struct cfg_pack packs[CFG_MAX_PACKS];
    int n_packs;
    int64_t size_credits[4];  /* S, M, L, XL */
    int64_t extended_credits; /* added for an extended licence */
    struct cfg_tier tiers[CFG_MAX_TIERS];
    int n_tiers;
    int64_t payout_min_cents;
    int64_t pack_refund_days;
    char terms_version[16];
    char smtp_url[512];      /* "" : mail is written to DATA/outbox */
    int smtp_require_tls;    /* refuse to send without STARTTLS or smtps */
    char smtp_ca_file[1024]; /* extra CA bundle for the SMTP server */
    char smtp_user[256];     /* from STOCKROOM_SMTP_USER only */
    char smtp_password[256]; /* from STOCKROOM_SMTP_PASSWORD only */
    char mail_from[256];
    int64_t reset_ttl_s;       /* a password reset link lives this long */
    int64_t verify_ttl_s;      /* an address verification link */
    int64_t mail_give_up_s;    /* a message is failed after trying this long */
    int64_t digest_interval_s; /* between two sales digests */
    /* Where photos live: "file" (DATA/blobs) or "s3". The S3 credentials
     * are never configuration: blob_open reads them from the environment. */
    char blob_store[8];
    char s3_endpoint[256]; /* "" means the AWS endpoint of the region */
    char s3_bucket[64];
    char s3_region[32];
    char s3_prefix[128];
    int s3_path_style;
    char cache_dir[1024]; /* "" means DATA/cache */
    int64_t cache_mb;
    char rendition_base_url[256]; /* "" means Stockroom serves them */
    int min_keywords; /* a photo goes to review with these; 0: no rules */
    /* Hardening (issue 11): who may speak for clients, and who reads
     * the metrics. */
    char trusted_proxy[512];  /* comma-separated peer addresses */
    char metrics_token[128];  /* Bearer token for /metrics; "" none */
    char metrics_listen[128]; /* ADDR:PORT of a metrics-only listener */
    /* Briefs. */
    int64_t brief_min_credits; /* smallest bounty */
    int brief_royalty_bp;      /* a brief award's royalty */
    int64_t brief_day_s;       /* a brief day: short in tests */
    /* Stripe (--payment-provider stripe). The key and the webhook secrets
     * come only from the environment and are never printed or logged. */
    char stripe_api_url[256];
    char stripe_secret_key[256];
    char stripe_webhook_secret[1024]; /* comma-separated while rotating */
    char seller_name[128];            /* printed on receipts */
    char seller_address[256];
    char seller_tax_id[64];
};

/* Fill c with the defaults of DESIGN.md. */
void cfg_defaults(struct config *c);

/* Apply STOCKROOM_* variables. Returns 0, or -1 with a line in err. */
int cfg_from_env(struct config *c, char *err, size_t errlen);

/* Apply the global --flag VALUE / --flag=VALUE pairs found anywhere in
 * argv. What is not a global flag (operands, a command's own --flag VALUE
 * pairs) is moved to the front of argv in its order, and *rest says how
 * many items that is; "--" ends the flags. Unknown values: -1 with a
 * one-line reason in err. */
int cfg_from_args(struct config *c, int argc, char **argv, int *rest, char *err,
                  size_t errlen);

/* Split "HOST:PORT" (the last colon) into host (hlen bytes) and port.
 * 0, or -1 when it is not one. */
int cfg_parse_listen(const char *v, char *host, size_t hlen,
                     unsigned short *port);

/* The flags, with their variables and defaults, for --help. */
void cfg_usage(FILE *f);

#endif
