/* startup: time from exec of `stockroom serve` to its first answer on
 * /healthz, and its memory once idle.
 *
 *   startup PORTFILE IDLE_MS -- stockroom serve ... --port-file PORTFILE
 *
 * Starts the command, polls for PORTFILE then GET /healthz every
 * millisecond, waits IDLE_MS, reads VmRSS and VmHWM, sends SIGTERM and
 * waits. Prints ready_ms, idle_rss_kb, hwm_kb. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int
healthz(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port)};
    const char rq[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n";
    char buf[64] = "";
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
    ssize_t n;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, rq, sizeof rq - 1) == (ssize_t)(sizeof rq - 1)) {
        n = read(fd, buf, sizeof buf - 1);
        ok = n > 12 && !strncmp(buf + 9, "200", 3);
    }
    close(fd);
    return ok;
}

int
main(int argc, char **argv)
{
    const char *portfile;
    int idle_ms, port = 0, status;
    double t0, ready = -1;
    pid_t pid;

    if (argc < 5 || strcmp(argv[3], "--")) {
        fprintf(stderr, "usage: startup PORTFILE IDLE_MS -- CMD...\n");
        return 2;
    }
    portfile = argv[1];
    idle_ms = atoi(argv[2]);
    unlink(portfile);
    t0 = bench_now();
    pid = fork();
    if (pid == 0) {
        execv(argv[4], argv + 4);
        _exit(127);
    }
    while (bench_now() - t0 < 120) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "startup: the server exited\n");
            return 1;
        }
        if (!port) {
            FILE *f = fopen(portfile, "r");

            if (f) {
                if (fscanf(f, "%d", &port) != 1)
                    port = 0;
                fclose(f);
            }
        }
        if (port && healthz(port)) {
            ready = (bench_now() - t0) * 1000;
            break;
        }
        usleep(1000);
    }
    if (ready < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fprintf(stderr, "startup: no answer within 120 s\n");
        return 1;
    }
    usleep((useconds_t)idle_ms * 1000);
    printf("ready_ms=%.1f idle_rss_kb=%ld hwm_kb=%ld\n", ready,
           bench_proc_kb(pid, "VmRSS"), bench_proc_kb(pid, "VmHWM"));
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return 0;
}
