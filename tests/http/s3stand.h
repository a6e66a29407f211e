/* Stockroom — the S3 stand-in for HTTP tests: tests/services/s3/stand.js
 * (s3rver behind a front that checks every Signature V4 and injects
 * faults) started on free loopback ports with its own folder. With
 * STOCKROOM_TEST_BLOB=s3 the harness starts every server against it. */
#ifndef STOCKROOM_S3STAND_H
#define STOCKROOM_S3STAND_H

#include <sys/types.h>

/* The credentials the stand-in accepts. */
#define S3S_ACCESS_KEY "stockroom-test-key"
#define S3S_SECRET "stockroom-test-secret-0123456789"

struct s3s {
    pid_t pid;
    int port;    /* the S3 endpoint: http://127.0.0.1:port */
    int control; /* faults, buckets, counters */
    char dir[256];
    char endpoint[64];
};

/* Start it (node must be on PATH, npm ci done in tests/services/s3);
 * waits for its ports with a deadline. 0 or -1. */
int s3s_start(struct s3s *s);

/* Stop it (SIGTERM, then SIGKILL after a deadline) and remove its folder. */
void s3s_stop(struct s3s *s);

/* Create bucket name. 0 or -1. */
int s3s_bucket(struct s3s *s, const char *name);

/* Set the fault: a query string as stand.js takes it, such as
 * "mode=status&status=503&code=SlowDown", "mode=refuse", "mode=none".
 * 0 or -1. */
int s3s_fault(struct s3s *s, const char *query);

/* A counter from /stats ("requests", "refused_signatures"); -1 on error. */
long s3s_stat(struct s3s *s, const char *name);

/* The stand-in shared by every server this process starts with
 * STOCKROOM_TEST_BLOB=s3 (started on first use, stopped at exit); NULL
 * when it cannot start. */
struct s3s *s3s_shared(void);

/* Point the servers and admin commands this process starts next at a
 * bucket of s (made if new) named after data_dir, through STOCKROOM_*
 * environment variables, so a restart on the same folder finds the same
 * bucket. 0 or -1. */
int s3s_use(struct s3s *s, const char *data_dir);

#endif
