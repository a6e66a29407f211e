/* Stockroom — the stockroom binary: serve the store, and the admin
 * commands that work on the same data directory. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "mail.h"
#include "audit.h"
#include "text.h"
#include "auth.h"
#include "blob.h"
#include "imaging.h"
#include "limiter.h"
#include "ledger.h"
#include "log.h"
#include "payments.h"
#include "rcache.h"

#define STOCKROOM_VERSION "0.1.0"
#define EXIT_USAGE 2

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: stockroom COMMAND [FLAGS]\n\n"
            "commands:\n"
            "  serve                         serve the store over HTTP\n"
            "  user add --email E --role R [--name N]\n"
            "                                add staff (password on standard "
            "input)\n"
            "  import --contributor E PATH... add photos (files or folders)\n"
            "  backup FILE                   copy the database, consistently\n"
            "  ledger verify                 check the books (exit 0 when they "
            "balance)\n"
            "  blobs migrate --to s3         copy every local blob into the "
            "bucket\n"
            "  blobs verify [--deep]         check that every blob named "
            "exists\n"
            "  blobs gc [--older-than H] [--delete]\n"
            "                                list (remove) blobs no row "
            "names\n"
            "  payments reconcile [--since HOURS]\n"
            "                                settle paid Stripe checkouts "
            "whose webhook was lost\n"
            "  --help, --version\n\n"
            "flags (each also read from its environment variable):\n");
    cfg_usage(f);
}

static int
mkdir_p(const char *path)
{
    char buf[1100];

    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

/* Uploads cut off by a crash leave temporary files: nothing refers to
 * them, so they go at start-up. */
static void
clean_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[2400];

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            log_info("removed leftover temporary file %s", e->d_name);
    }
    closedir(d);
}

/* Open the data directory and the database: shared by every command. */
int
app_open(struct app *app)
{
    char path[1100], err[DB_ERR_LEN], berr[BLOB_ERR_LEN];
    int rc;

    for (int i = 0; i < app->cfg.n_tiers; i++) {
        app->tiers[i].min_sold = app->cfg.tiers[i].min_sold;
        app->tiers[i].rate_bp = app->cfg.tiers[i].rate_bp;
    }
    app->n_tiers = (size_t)app->cfg.n_tiers;
    snprintf(app->tmp_dir, sizeof app->tmp_dir, "%s/tmp", app->cfg.data_dir);
    if (mkdir_p(app->cfg.data_dir) < 0 || mkdir_p(app->tmp_dir) < 0) {
        fprintf(stderr, "stockroom: cannot create data directory %s: %s\n",
                app->cfg.data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/stockroom.db", app->cfg.data_dir);
    rc = db_open(path, &app->db, err);
    if (rc != DB_OK) {
        fprintf(stderr, "stockroom: %s\n", err);
        return -1;
    }
    if (auth_new(&app->cfg, &app->auth) < 0) {
        fprintf(stderr, "stockroom: libsodium could not start\n");
        return -1;
    }
    if (limiter_new(&app->cfg, &app->limiter) < 0) {
        fprintf(stderr, "stockroom: out of memory\n");
        return -1;
    }
    rc = blob_open(&app->cfg, NULL, &app->blobs, berr);
    if (rc != BLOB_OK) {
        fprintf(stderr, "stockroom: %s\n", berr);
        return rc == BLOB_ECONFIG ? APP_ECONFIG : -1;
    }
    if (money_keys_load(app) < 0) {
        fprintf(stderr,
                "stockroom: cannot read or make the signing key in "
                "%s\n",
                app->cfg.data_dir);
        return -1;
    }
    if (img_init() != IMG_OK) {
        fprintf(stderr, "stockroom: libvips could not start\n");
        return -1;
    }
    return 0;
}

void
app_close(struct app *app)
{
    blob_close(app->blobs);
    app->blobs = NULL;
    limiter_free(app->limiter);
    app->limiter = NULL;
    auth_free(app->auth);
    app->auth = NULL;
    db_close(app->db);
    app->db = NULL;
}

/* Bind the listening socket ourselves, so "address in use" is reported as
 * such rather than as a daemon that did not start. */
static int
listen_on(const char *host, unsigned short want, unsigned short *bound)
{
    struct addrinfo hints = {0}, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char port[8];
    int fd = -1, one = 1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%u", want);
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "stockroom: cannot listen on %s:%u: %s\n", host, want,
                gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        fprintf(stderr, "stockroom: cannot listen on %s:%u: %s\n", host, want,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    } else {
        *bound = ntohs(ss.ss_family == AF_INET6
                           ? ((struct sockaddr_in6 *)&ss)->sin6_port
                           : ((struct sockaddr_in *)&ss)->sin_port);
    }
    freeaddrinfo(ai);
    return fd;
}

static int
write_port_file(const char *path, unsigned short port)
{
    char tmp[1100];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* Every connection and every cached rendition holds a descriptor; the
 * usual soft limit (1024) is below the default --max-connections. Raise it
 * as far as allowed and say so when even that is short. */
static void
raise_open_files(const struct config *c)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)c->max_connections + (rlim_t)c->rcache_files +
                  (rlim_t)c->workers * 4 + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;

        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_info("open files limit raised from %llu to %llu",
                     (unsigned long long)was, (unsigned long long)rl.rlim_cur);
        else
            rl.rlim_cur = was;
    }
    if (rl.rlim_cur < need)
        log_warn("open files limit %llu is below the %llu that "
                 "--max-connections and the caches need: raise it (ulimit "
                 "-n) or lower --max-connections",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

/* --metrics-listen: a second listener with the metrics alone. */
static int
metrics_start(struct app *app)
{
    char host[64];
    unsigned short want = 0, port = 0;
    int fd;

    if (cfg_parse_listen(app->cfg.metrics_listen, host, sizeof host, &want) < 0)
        return -1;
    fd = listen_on(host, want, &port);
    if (fd < 0)
        return -1;
    if (srv_http_start(app, fd, app_metrics_routes, app_n_metrics_routes,
                       &app->metrics_http) < 0) {
        fprintf(stderr, "stockroom: the metrics listener did not start\n");
        close(fd);
        return -1;
    }
    log_info("metrics on http://%s:%u/metrics", host, port);
    return 0;
}

static int
cmd_serve(struct app *app)
{
    struct timespec t0;
    unsigned short port = 0;
    sigset_t sigs;
    int fd, sig = 0, rc = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Every thread started from here on inherits the mask, so the signals
     * reach only sigwait below. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_open_files(&app->cfg);
    fd = listen_on(app->cfg.listen_host, app->cfg.listen_port, &port);
    if (fd < 0)
        return EXIT_USAGE;
    /* Links built from the listen address (Stripe's return URLs) need
     * the port really bound, not ":0". Set before any thread reads it. */
    app->cfg.listen_port = port;
    rc = app_open(app);
    if (rc < 0) {
        /* Wrong endpoint, bucket or credentials: a usage error. */
        rc = rc == APP_ECONFIG ? EXIT_USAGE : 1;
        close(fd);
        goto out;
    }
    rc = 1;
    clean_tmp(app->tmp_dir);
    if (rcache_new((size_t)app->cfg.rcache_files, &app->rcache) < 0) {
        close(fd);
        goto out;
    }
    if (workers_start(app) < 0 || views_open(app) < 0 ||
        chores_start(app) < 0 || mail_start(app, port) < 0) {
        fprintf(stderr, "stockroom: background threads did not start\n");
        close(fd);
        goto out;
    }
    if (srv_http_start(app, fd, app_routes, app_n_routes, &app->http) < 0) {
        fprintf(stderr, "stockroom: the HTTP server did not start\n");
        close(fd);
        goto out;
    }
    if (app->cfg.metrics_listen[0] && metrics_start(app) < 0)
        goto out;
    if (app->cfg.port_file[0] && write_port_file(app->cfg.port_file, port)) {
        fprintf(stderr, "stockroom: cannot write %s\n", app->cfg.port_file);
        goto out;
    }
    {
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_info("listening on http://%s:%u (data %s, started in %.1f ms)",
                 app->cfg.listen_host, port, app->cfg.data_dir,
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    sigwait(&sigs, &sig);
    log_info("signal %d: finishing requests in flight", sig);
    rc = 0;
out:
    srv_http_stop(app->metrics_http, 1000);
    app->metrics_http = NULL;
    srv_http_stop(app->http, 10000);
    app->http = NULL;
    workers_stop(app);
    chores_stop(app);
    views_close(app);
    mail_stop(app);
    rcache_free(app->rcache);
    app->rcache = NULL;
    app_close(app);
    if (rc == 0)
        log_info("stopped cleanly");
    return rc;
}

static int
read_password(char *buf, size_t len)
{
    size_t n;

    if (!fgets(buf, (int)len, stdin))
        return -1;
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return n >= 10 ? 0 : -1;
}

static int
role_bit(const char *name, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } roles[] = {
        {"buyer", ACC_ROLE_BUYER},
        {"contributor", ACC_ROLE_CONTRIBUTOR},
        {"reviewer", ACC_ROLE_REVIEWER},
        {"admin", ACC_ROLE_ADMIN},
    };

    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (!strcmp(name, roles[i].name)) {
            *bit = roles[i].bit;
            return 0;
        }
    }
    return -1;
}

/* stockroom user add --email E --role R [--name N]: creates the account, or
 * gives an existing one the role (and the new password). */
static int
cmd_user_add(struct app *app, int argc, char **argv)
{
    const char *email = NULL, *name = NULL;
    char pw[1100], hash[ACC_HASH_LEN], err[DB_ERR_LEN], lower[ACC_EMAIL_LEN];
    unsigned roles = ACC_ROLE_BUYER | ACC_ROLE_CONTRIBUTOR, bit;
    struct acc_user u;
    int rc = 1;

    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--email")) {
            email = argv[i + 1];
        } else if (!strcmp(argv[i], "--name")) {
            name = argv[i + 1];
        } else if (!strcmp(argv[i], "--role") &&
                   role_bit(argv[i + 1], &bit) == 0) {
            roles |= bit;
            /* Staff may review and administer; reviewers need not buy. */
            if (bit == ACC_ROLE_ADMIN)
                roles |= ACC_ROLE_REVIEWER;
        } else {
            fprintf(stderr, "stockroom: bad argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (argc % 2 || !email || !text_email_ok(email)) {
        fprintf(stderr,
                "usage: stockroom user add --email E --role "
                "buyer|contributor|reviewer|admin [--name N] < password\n");
        return EXIT_USAGE;
    }
    for (size_t i = 0; email[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32
                                                             : email[i]);
    lower[strlen(email) < sizeof lower ? strlen(email) : sizeof lower - 1] =
        '\0';
    if (read_password(pw, sizeof pw) < 0) {
        fprintf(stderr, "stockroom: give a password of at least 10 "
                        "characters on standard input\n");
        return EXIT_USAGE;
    }
    if (app_open(app) < 0)
        goto out;
    if (auth_hash_password(app->auth, pw, hash) < 0) {
        fprintf(stderr, "stockroom: the password could not be hashed\n");
        goto out;
    }
    if (acc_user_find_email(app->db, lower, &u, err) == DB_OK) {
        if (acc_user_add_roles(app->db, u.id, roles, err) != DB_OK ||
            acc_user_set_password(app->db, u.id, hash, err) != DB_OK) {
            fprintf(stderr, "stockroom: %s\n", err);
            goto out;
        }
        printf("updated %s (%s)\n", u.id, lower);
    } else if (acc_user_create(app->db, lower, name ? name : lower, hash, roles,
                               &u, err) == DB_OK) {
        printf("created %s (%s)\n", u.id, lower);
    } else {
        fprintf(stderr, "stockroom: %s\n", err);
        goto out;
    }
    /* The console's command line is staff too: its actor is "cli". */
    /* The reason names the roles held now (pw is done with). */
    snprintf(pw, sizeof pw, "%s%s%s%s", roles & ACC_ROLE_BUYER ? "buyer " : "",
             roles & ACC_ROLE_CONTRIBUTOR ? "contributor " : "",
             roles & ACC_ROLE_REVIEWER ? "reviewer " : "",
             roles & ACC_ROLE_ADMIN ? "admin" : "");
    if (db_audit_add(app->db, "cli", "role_change", "user", u.id, pw, err) !=
        DB_OK)
        fprintf(stderr, "stockroom: audit: %s\n", err);
    rc = 0;
out:
    app_close(app);
    return rc;
}

static int
cmd_backup(struct app *app, int argc, char **argv)
{
    char err[DB_ERR_LEN];
    int rc = 1;

    if (argc != 1) {
        fprintf(stderr, "usage: stockroom backup [--data DIR] FILE\n");
        return EXIT_USAGE;
    }
    if (app_open(app) < 0)
        goto out;
    if (db_backup(app->db, argv[0], err) != DB_OK) {
        fprintf(stderr, "stockroom: %s\n", err);
        goto out;
    }
    printf("backed up to %s\n", argv[0]);
    rc = 0;
out:
    app_close(app);
    return rc;
}

/* stockroom ledger verify: exit 0 only when every invariant holds. */
static int
cmd_ledger_verify(struct app *app, int argc)
{
    char err[DB_ERR_LEN];
    char *report = NULL;
    int rc;

    if (argc != 0) {
        fprintf(stderr, "usage: stockroom ledger verify [--data DIR]\n");
        return EXIT_USAGE;
    }
    if (app_open(app) < 0) {
        app_close(app);
        return 1;
    }
    rc = ledger_verify(app->db, &report, err);
    if (report)
        fputs(report, stdout);
    if (rc != DB_OK && rc != DB_ECONFLICT)
        fprintf(stderr, "stockroom: %s\n", err);
    else
        printf("%s\n",
               rc == DB_OK ? "the books balance" : "the books do NOT balance");
    free(report);
    app_close(app);
    return rc == DB_OK ? 0 : 1;
}

/* `blobs` has switches without a value (--deep, --delete), which the
 * flag parser would pair with the next item: a copy of argv with them
 * behind a "--", where they stay operands for cmd_blobs. */
static char **
blobs_switches_last(int *argc, char **argv)
{
    static char dashes[] = "--";
    static char *out[260];
    char *sw[8];
    int n = 0, kept = 0;

    if (*argc > 250)
        return argv;
    for (int i = 0; i < *argc; i++) {
        if (i >= 3 && n < 8 &&
            (!strcmp(argv[i], "--deep") || !strcmp(argv[i], "--delete")))
            sw[n++] = argv[i];
        else
            out[kept++] = argv[i];
    }
    if (n == 0)
        return argv;
    out[kept++] = dashes;
    for (int i = 0; i < n; i++)
        out[kept++] = sw[i];
    out[kept] = NULL;
    *argc = kept;
    return out;
}

int
main(int argc, char **argv)
{
    static struct app app; /* static: big, and lives as long as main */
    char err[256];
    const char *cmd = argc > 1 ? argv[1] : "";
    const char *sub = argc > 2 ? argv[2] : "";
    int rest = 0, skip = 2;

    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("stockroom %s\n", STOCKROOM_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    if ((!strcmp(cmd, "user") && argc > 2 && !strcmp(argv[2], "add")) ||
        (!strcmp(cmd, "ledger") && argc > 2 && !strcmp(argv[2], "verify")) ||
        (!strcmp(cmd, "blobs") && argc > 2) ||
        (!strcmp(cmd, "payments") && argc > 2 && !strcmp(argv[2], "reconcile")))
        skip = 3;
    if (!strcmp(cmd, "blobs"))
        argv = blobs_switches_last(&argc, argv);
    /* Before any thread: Stripe's client calls libcurl from several. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cfg_defaults(&app.cfg);
    if (cfg_from_env(&app.cfg, err, sizeof err) < 0 ||
        cfg_from_args(&app.cfg, argc - skip, argv + skip, &rest, err,
                      sizeof err) < 0) {
        fprintf(stderr, "stockroom: %s\n", err);
        return EXIT_USAGE;
    }
    log_set_level(!strcmp(app.cfg.log_level, "debug")   ? LOG_DEBUG
                  : !strcmp(app.cfg.log_level, "warn")  ? LOG_WARN
                  : !strcmp(app.cfg.log_level, "error") ? LOG_ERROR
                                                        : LOG_INFO);
    argc = rest;
    argv += skip;
    if (!strcmp(cmd, "serve")) {
        if (argc > 0) {
            fprintf(stderr, "stockroom: unknown flag '%s' (see --help)\n",
                    argv[0]);
            return EXIT_USAGE;
        }
        return cmd_serve(&app);
    }
    if (skip == 3 && !strcmp(cmd, "blobs"))
        return cmd_blobs(&app, sub, argc, argv);
    if (skip == 3 && !strcmp(cmd, "payments"))
        return checkout_cmd_reconcile(&app, argc, argv);
    if (skip == 3 && !strcmp(cmd, "ledger"))
        return cmd_ledger_verify(&app, argc);
    if (skip == 3)
        return cmd_user_add(&app, argc, argv);
    if (!strcmp(cmd, "import"))
        return cmd_import(&app, argc, argv);
    if (!strcmp(cmd, "backup"))
        return cmd_backup(&app, argc, argv);
    fprintf(stderr, "stockroom: unknown command '%s' (see --help)\n", cmd);
    return EXIT_USAGE;
}
