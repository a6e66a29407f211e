/* par: run benchmark processes side by side and report the wall time and
 * the peak memory of the largest one.
 *
 *   par -j N -- CMD ARGS...   N copies at once; "{k}" and "{n}" in ARGS
 *                             become the copy's index and N
 *   par -j N -l LIST          every line of LIST is one command (arguments
 *                             separated by tabs), N running at a time
 *
 * Prints one line: wall_s=... jobs=... failed=... max_rss_kb=...
 * Peak memory is each child's ru_maxrss from wait4(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAX_ARGS 256

static char **
subst(char **argv, int argc, int k, int n)
{
    char **out = calloc((size_t)argc + 1, sizeof *out);

    for (int i = 0; i < argc; i++) {
        char buf[4096], *d = buf;
        const char *s = argv[i];

        while (*s && d < buf + sizeof buf - 16) {
            if (!strncmp(s, "{k}", 3)) {
                d += sprintf(d, "%d", k);
                s += 3;
            } else if (!strncmp(s, "{n}", 3)) {
                d += sprintf(d, "%d", n);
                s += 3;
            } else {
                *d++ = *s++;
            }
        }
        *d = '\0';
        out[i] = strdup(buf);
    }
    return out;
}

static pid_t
spawn(char **argv)
{
    pid_t pid = fork();

    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "par: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

int
main(int argc, char **argv)
{
    int jobs = 1, running = 0, failed = 0, started = 0, total = 0, opt;
    const char *list = NULL;
    char ***cmds = NULL;
    long max_rss = 0;
    double t0;

    while ((opt = getopt(argc, argv, "+j:l:")) != -1) {
        if (opt == 'j')
            jobs = atoi(optarg);
        else if (opt == 'l')
            list = optarg;
        else
            return 2;
    }
    if (jobs < 1 || (!list && optind >= argc)) {
        fprintf(stderr, "usage: par -j N -- CMD ARGS... | par -j N -l LIST\n");
        return 2;
    }
    if (list) {
        FILE *f = fopen(list, "r");
        char line[16384];

        if (!f) {
            perror(list);
            return 2;
        }
        while (fgets(line, sizeof line, f)) {
            char *av[MAX_ARGS], *save = NULL, *tok;
            int ac = 0;

            line[strcspn(line, "\n")] = '\0';
            if (!line[0])
                continue;
            for (tok = strtok_r(line, "\t", &save); tok && ac < MAX_ARGS - 1;
                 tok = strtok_r(NULL, "\t", &save))
                av[ac++] = tok;
            cmds = realloc(cmds, (size_t)(total + 1) * sizeof *cmds);
            cmds[total] = subst(av, ac, total, jobs);
            total++;
        }
        fclose(f);
    } else {
        total = jobs;
        cmds = calloc((size_t)total, sizeof *cmds);
        for (int k = 0; k < jobs; k++)
            cmds[k] = subst(argv + optind, argc - optind, k, jobs);
    }
    t0 = bench_now();
    while (started < total || running > 0) {
        struct rusage ru;
        int status;
        pid_t pid;

        while (running < jobs && started < total) {
            if (spawn(cmds[started++]) < 0) {
                perror("fork");
                return 1;
            }
            running++;
        }
        pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
        if (ru.ru_maxrss > max_rss)
            max_rss = ru.ru_maxrss;
    }
    printf("wall_s=%.4f jobs=%d failed=%d max_rss_kb=%ld\n", bench_now() - t0,
           total, failed, max_rss);
    return failed ? 1 : 0;
}
