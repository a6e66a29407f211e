/* Stockroom — the binary's life: flags, exit codes, the admin commands,
 * a database from the future, and stopping with a request in flight. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define RUN_MS 30000 /* longest a command may take */

static struct th_server srv;      /* default flags, shared */
static struct th_server extra[3]; /* servers a test stops or restarts */
static char scratch[64];          /* files the commands write */

static int
setup(void **state)
{
    (void)state;
    if (tu_tmpdir(scratch, sizeof scratch) < 0)
        return -1;
    return th_start(&srv, NULL);
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        th_cleanup(&extra[i]);
    tu_rmtree(scratch);
    return rc;
}

/* "stockroom: ..." and nothing else: one line, for a person and a log. */
static void
assert_one_line_error(const char *err, const char *what)
{
    const char *nl = strchr(err, '\n');

    if (strncmp(err, "stockroom: ", 11) != 0 || !nl || nl[1] != '\0' ||
        nl - err < 16)
        fail_msg("%s: want one 'stockroom: ...' line, got '%s'", what, err);
}

/* th_stop, failing with the end of the server's log when the exit was not
 * clean: an abort leaves no sanitizer report to point at. */
static void
stop_clean(struct th_server *s)
{
    char tail[2048];
    int rc = th_stop(s);

    if (rc != 0)
        fail_msg("server exit %d; log ends:\n%s", rc,
                 tu_log_tail(s->log, tail, sizeof tail));
}

static long
login(struct th_server *s, const char *email, const char *pw, json_t **user)
{
    char *body = tu_json("{s:s,s:s}", "email", email, "password", pw);
    struct th_resp r;
    long status;

    assert_int_equal(
        th_req(s, "POST", "/api/v1/sessions", NULL, body, strlen(body), &r), 0);
    free(body);
    status = r.status;
    if (user)
        *user = json_incref(json_object_get(r.json, "user"));
    th_resp_free(&r);
    return status;
}

/* ---- flags and exit codes ------------------------------------------------ */

static void
test_help_and_version(void **state)
{
    static const char *const help[][3] = {
        {"stockroom", "--help", NULL},
        {"stockroom", "-h", NULL},
    };
    static const char *const version[] = {"stockroom", "--version", NULL};
    char out[8192], err[1024];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(
            tu_run(help[i], NULL, out, sizeof out, err, sizeof err, RUN_MS), 0);
        assert_non_null(strstr(out, "usage:"));
        assert_non_null(strstr(out, "serve"));
        /* Each flag is listed, with the variable that also sets it. */
        assert_non_null(strstr(out, "--session-ttl"));
        assert_non_null(strstr(out, "STOCKROOM_SESSION_TTL"));
        assert_string_equal(err, "");
    }
    assert_int_equal(
        tu_run(version, NULL, out, sizeof out, err, sizeof err, RUN_MS), 0);
    assert_memory_equal(out, "stockroom ", 10);
    assert_true(out[10] >= '0' && out[10] <= '9');
    assert_string_equal(err, "");
}

static void
test_bad_flags_exit_2(void **state)
{
    /* Each after --listen 127.0.0.1:0 --data DIR: should one be taken,
     * the server would start somewhere harmless, and be killed. */
    static const char *const bad[][3] = {
        {"--bogus-flag", NULL},
        {"--workers", "0"},
        {"--workers", "many"},
        {"--session-ttl", "-5"},
        {"--session-ttl", "1e9"},
        {"--listen", "no-port"},
        {"--listen", "127.0.0.1:99999"},
        {"--log-level", "loud"},
        {"--payment-provider", "real"},
        {"--max-upload-mb", "0"},
        {"--connection-timeout", ""},
        {"--login-window", "12x"},
        {
            "--min-megapixels",
            "50",
        },
        {"--data", NULL},
        {"stray-argument", NULL},
    };
    const char *argv[16];
    char out[4096], err[4096], what[128];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int n = 0, rc;

        argv[n++] = "stockroom";
        argv[n++] = "serve";
        argv[n++] = "--listen";
        argv[n++] = "127.0.0.1:0";
        argv[n++] = "--data";
        argv[n++] = scratch;
        argv[n++] = bad[i][0];
        if (bad[i][1])
            argv[n++] = bad[i][1];
        /* min above max is refused as a pair. */
        if (!strcmp(bad[i][0], "--min-megapixels")) {
            argv[n++] = "--max-megapixels";
            argv[n++] = "10";
        }
        argv[n] = NULL;
        snprintf(what, sizeof what, "serve %s %s", bad[i][0],
                 bad[i][1] ? bad[i][1] : "");
        rc = tu_run(argv, NULL, out, sizeof out, err, sizeof err, RUN_MS);
        if (rc != 2)
            fail_msg("%s: exit %d, want 2 (%s)", what, rc, err);
        assert_one_line_error(err, what);
    }
}

static void
test_bad_command_exit_2(void **state)
{
    static const char *const cmds[][3] = {
        {"stockroom", NULL},
        {"stockroom", "frobnicate", NULL},
        {"stockroom", "user", NULL},
        {"stockroom", "user", "delete"},
    };
    char out[4096], err[4096];

    (void)state;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int rc =
            tu_run(cmds[i], NULL, out, sizeof out, err, sizeof err, RUN_MS);

        if (rc != 2)
            fail_msg("command %zu: exit %d, want 2 (%s)", i, rc, err);
        assert_one_line_error(err, cmds[i][1] ? cmds[i][1] : "no command");
    }
}

static void
test_bad_environment_exit_2(void **state)
{
    static const char *const argv[] = {
        "stockroom", "serve", "--listen", "127.0.0.1:0", "--data", NULL, NULL,
    };
    const char *args[7];
    char out[4096], err[4096];
    int rc;

    (void)state;
    memcpy(args, argv, sizeof args);
    args[5] = scratch;
    setenv("STOCKROOM_WORKERS", "0", 1);
    rc = tu_run(args, NULL, out, sizeof out, err, sizeof err, RUN_MS);
    unsetenv("STOCKROOM_WORKERS");
    assert_int_equal(rc, 2);
    assert_one_line_error(err, "STOCKROOM_WORKERS=0");
    /* The message names what to fix. */
    assert_non_null(strstr(err, "STOCKROOM_WORKERS"));
}

static void
test_address_in_use(void **state)
{
    const char *argv[] = {
        "stockroom", "serve", "--listen", NULL, "--data", scratch, NULL,
    };
    char listen[64], out[4096], err[4096], port[16];
    int rc;

    (void)state;
    snprintf(listen, sizeof listen, "127.0.0.1:%d", srv.port);
    argv[3] = listen;
    rc = tu_run(argv, NULL, out, sizeof out, err, sizeof err, RUN_MS);
    assert_int_equal(rc, 2);
    assert_one_line_error(err, "address in use");
    assert_non_null(strcasestr(err, "in use"));
    snprintf(port, sizeof port, "%d", srv.port);
    assert_non_null(strstr(err, port));
    /* The first server did not notice. */
    assert_true(tu_healthy(&srv));
}

/* ---- admin commands ------------------------------------------------------ */

static void
test_user_add_makes_admin(void **state)
{
    const char *argv[] = {
        "stockroom", "user",   "add",   "--data", srv.dir,    "--email",
        NULL,        "--role", "admin", "--name", "The Boss", NULL,
    };
    char email[128], mixed[128], out[4096], err[4096];
    json_t *user = NULL;

    (void)state;
    tu_email("boss", email, sizeof email);
    snprintf(mixed, sizeof mixed, "%s", email);
    mixed[0] = 'B';
    argv[6] = mixed;
    assert_int_equal(tu_run(argv, "a long admin password\n", out, sizeof out,
                            err, sizeof err, RUN_MS),
                     0);
    assert_non_null(strstr(out, email));
    /* The running server sees the account at once, under its lower-case
     * address, with the staff roles. */
    assert_int_equal(login(&srv, email, "a long admin password", &user), 201);
    assert_true(kit_has_role(user, "admin"));
    assert_true(kit_has_role(user, "reviewer"));
    assert_string_equal(json_string_value(json_object_get(user, "name")),
                        "The Boss");
    json_decref(user);
}

static void
test_user_add_refuses_bad_input(void **state)
{
    static const char *const stdins[] = {
        "short\n",
        "123456789\n",
        "",
        "\n",
    };
    const char *argv[] = {
        "stockroom", "user", "add",    "--data", srv.dir,
        "--email",   NULL,   "--role", "admin",  NULL,
    };
    const char *bad_role[] = {
        "stockroom", "user", "add",    "--data",   srv.dir,
        "--email",   NULL,   "--role", "overlord", NULL,
    };
    const char *no_email[] = {
        "stockroom", "user", "add", "--data", srv.dir, "--role", "admin", NULL,
    };
    char email[128], out[4096], err[4096];
    int rc;

    (void)state;
    tu_email("weak-admin", email, sizeof email);
    argv[6] = email;
    bad_role[6] = email;
    for (size_t i = 0; i < sizeof stdins / sizeof stdins[0]; i++) {
        rc = tu_run(argv, stdins[i], out, sizeof out, err, sizeof err, RUN_MS);
        if (rc != 2)
            fail_msg("password '%s': exit %d, want 2", stdins[i], rc);
        assert_one_line_error(err, "short password");
    }
    rc = tu_run(bad_role, "a long admin password\n", out, sizeof out, err,
                sizeof err, RUN_MS);
    assert_int_equal(rc, 2);
    rc = tu_run(no_email, "a long admin password\n", out, sizeof out, err,
                sizeof err, RUN_MS);
    assert_int_equal(rc, 2);
    /* None of them made the account. */
    assert_int_equal(login(&srv, email, "short", NULL), 401);
    assert_int_equal(login(&srv, email, "a long admin password", NULL), 401);
}

static void
test_backup(void **state)
{
    const char *argv[] = {
        "stockroom", "backup", "--data", srv.dir, NULL, NULL,
    };
    char email[128], file[200], sql[300], out[4096], err[4096], v[64];
    struct th_server *restored = &extra[0];

    (void)state;
    tu_email("backed-up", email, sizeof email);
    assert_int_equal(th_signup(&srv, email, PW, "Backed Up"), 201);
    snprintf(file, sizeof file, "%s/backup.db", scratch);
    argv[4] = file;
    /* Taken while the server runs. */
    assert_int_equal(
        tu_run(argv, NULL, out, sizeof out, err, sizeof err, RUN_MS), 0);
    assert_non_null(tu_sql_text(file, "PRAGMA integrity_check", v, sizeof v));
    assert_string_equal(v, "ok");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM users WHERE email = '%s'",
             email);
    assert_int_equal(tu_sql_int(file, sql), 1);
    assert_true(tu_sql_int(file, "PRAGMA user_version") > 0);

    /* Restoring is copying it in place: the user signs in there. */
    assert_int_equal(tu_tmpdir(restored->dir, sizeof restored->dir), 0);
    snprintf(sql, sizeof sql, "%s/stockroom.db", restored->dir);
    assert_int_equal(tu_copy_file(file, sql), 0);
    assert_int_equal(th_start(restored, NULL), 0);
    assert_int_equal(login(restored, email, PW, NULL), 201);
    stop_clean(restored);
    th_cleanup(restored);

    /* A place it cannot write: an error, not a half-written file. */
    snprintf(file, sizeof file, "%s/no/such/dir/backup.db", scratch);
    argv[4] = file;
    assert_true(tu_run(argv, NULL, out, sizeof out, err, sizeof err, RUN_MS) !=
                0);
    assert_true(access(file, F_OK) != 0);
}

static void
test_newer_database_refused(void **state)
{
    const char *argv[] = {
        "stockroom", "serve", "--listen", "127.0.0.1:0", "--data", NULL, NULL,
    };
    struct th_server *s = &extra[1];
    char email[128], dir[64], from[300], to[300], sql[200], msg[256];
    char out[4096], err[4096];
    int rc;

    (void)state;
    assert_int_equal(th_start(s, NULL), 0);
    tu_email("future", email, sizeof email);
    assert_int_equal(th_signup(s, email, PW, "Future"), 201);
    /* A clean stop folds the WAL into the file, so the copy is whole. */
    stop_clean(s);
    assert_int_equal(tu_tmpdir(dir, sizeof dir), 0);
    snprintf(from, sizeof from, "%s/stockroom.db", s->dir);
    snprintf(to, sizeof to, "%s/stockroom.db", dir);
    assert_int_equal(tu_copy_file(from, to), 0);
    if (tu_sql_exec(to, "PRAGMA user_version=999", msg, sizeof msg) < 0)
        fail_msg("PRAGMA user_version=999: %s", msg);
    argv[5] = dir;
    rc = tu_run(argv, NULL, out, sizeof out, err, sizeof err, RUN_MS);
    if (rc <= 0)
        fail_msg("serve on a newer database: exit %d, want non-zero (%s)", rc,
                 err);
    /* Clear: it says what is wrong and what to do. */
    if (!strstr(err, "newer") || !strstr(err, "999"))
        fail_msg("unclear refusal: '%s'", err);
    /* Refusing changed nothing: no downgrade, no lost rows. */
    assert_int_equal(tu_sql_int(to, "PRAGMA user_version"), 999);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM users WHERE email = '%s'",
             email);
    assert_int_equal(tu_sql_int(to, sql), 1);
    /* The original still starts. */
    assert_int_equal(th_start(s, NULL), 0);
    assert_int_equal(login(s, email, PW, NULL), 201);
    stop_clean(s);
    th_cleanup(s);
    tu_rmtree(dir);
}

/* ---- stopping --------------------------------------------------------- */

static int
refusing(void *arg)
{
    int fd = tu_connect(*(int *)arg);

    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

static void
test_sigterm_finishes_request_in_flight(void **state)
{
    struct th_server *s = &extra[2];
    char email[128], head[512], resp[8192];
    char *body;
    size_t half;
    int fd;

    (void)state;
    assert_int_equal(th_start(s, NULL), 0);
    tu_email("inflight", email, sizeof email);
    body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                   "In Flight");
    half = strlen(body) / 2;
    fd = tu_connect(s->port);
    assert_true(fd >= 0);
    snprintf(head, sizeof head,
             "POST /api/v1/users HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    assert_int_equal(tu_send(fd, head, strlen(head)), 0);
    assert_int_equal(tu_send(fd, body, half), 0);
    /* Begun: the sign-up, plus the /metrics request that reads it. */
    assert_true(
        tu_wait_metric(s, "stockroom_http_requests_in_flight", 2, -1, 10000));
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    /* Once it stops accepting, the signal has surely been taken. */
    assert_true(th_poll(refusing, &s->port, 10000));
    assert_int_equal(tu_send(fd, body + half, strlen(body) - half), 0);
    free(body);
    assert_true(tu_recv_response(fd, resp, sizeof resp, 20000) > 0);
    close(fd);
    if (tu_raw_status(resp) != 201)
        fail_msg("the request in flight got: %.300s", resp);
    assert_non_null(strstr(resp, email));
    /* Then a clean exit (th_stop's own SIGTERM finds it leaving). */
    stop_clean(s);

    /* What it answered 201 for was stored. */
    assert_int_equal(th_start(s, NULL), 0);
    assert_int_equal(login(s, email, PW, NULL), 201);
    stop_clean(s);
    th_cleanup(s);
}

/* A client that never finishes its request cannot hold the shutdown: after
 * the grace period the server exits anyway, cleanly. */
static void
test_sigterm_does_not_wait_forever(void **state)
{
    struct th_server *s = &extra[2];
    static const char head[] = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 100\r\n\r\n{\"email\":";
    int fd, idle, rc;
    pid_t pid;

    (void)state;
    assert_int_equal(th_start(s, NULL), 0);
    fd = tu_connect(s->port);
    idle = tu_connect(s->port);
    assert_true(fd >= 0 && idle >= 0);
    assert_int_equal(tu_send(fd, head, sizeof head - 1), 0);
    assert_true(
        tu_wait_metric(s, "stockroom_http_requests_in_flight", 2, -1, 10000));
    pid = s->pid;
    s->pid = 0;
    assert_int_equal(kill(pid, SIGTERM), 0);
    /* The grace is ten seconds; allow for a slow sanitizer build. */
    rc = tu_wait_exit(pid, 40000);
    close(fd);
    close(idle);
    if (rc != 0) {
        char tail[2048];

        fail_msg("exit %d after SIGTERM with a stuck request; log ends:\n%s",
                 rc, tu_log_tail(s->log, tail, sizeof tail));
    }
    th_cleanup(s);
}

static void
test_sigint_stops_cleanly(void **state)
{
    struct th_server *s = &extra[2];
    pid_t pid;
    int rc;

    (void)state;
    assert_int_equal(th_start(s, NULL), 0);
    pid = s->pid;
    s->pid = 0;
    assert_int_equal(kill(pid, SIGINT), 0);
    rc = tu_wait_exit(pid, 30000);
    if (rc != 0) {
        char tail[2048];

        fail_msg("exit %d after SIGINT; log ends:\n%s", rc,
                 tu_log_tail(s->log, tail, sizeof tail));
    }
    th_cleanup(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_flags_exit_2),
        cmocka_unit_test(test_bad_command_exit_2),
        cmocka_unit_test(test_bad_environment_exit_2),
        cmocka_unit_test(test_address_in_use),
        cmocka_unit_test(test_user_add_makes_admin),
        cmocka_unit_test(test_user_add_refuses_bad_input),
        cmocka_unit_test(test_backup),
        cmocka_unit_test(test_newer_database_refused),
        cmocka_unit_test(test_sigterm_finishes_request_in_flight),
        cmocka_unit_test(test_sigterm_does_not_wait_forever),
        cmocka_unit_test(test_sigint_stops_cleanly),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
