/*
 * rusage: run one command and record its wall time and peak memory.
 *
 * Usage: rusage OUTFILE -- CMD [ARGS...]
 *
 * Forks, execs CMD (looked up in PATH), waits for it with wait4() and
 * appends one line to OUTFILE:
 *
 *     wall_seconds peak_rss_kib exit_code
 *
 * wall_seconds is measured with CLOCK_MONOTONIC around fork..wait4;
 * peak_rss_kib is ru_maxrss of that child alone (on Linux it covers the
 * child and any descendants it waited for, e.g. the commands a `sh -c`
 * ran); exit_code is the child's exit status, 128+N if it was killed by
 * signal N, 127 if CMD could not be executed. CMD's stdin, stdout and
 * stderr are inherited. rusage exits with the same exit_code, or 125 if
 * it could not run or record the command itself.
 *
 * C11 + POSIX (wait4 is BSD/Linux). Build: cc -O2 -Wall -Wextra rusage.c
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_SELF = 125, EXIT_NOEXEC = 127 };

static void usage(void)
{
    fputs("usage: rusage OUTFILE -- CMD [ARGS...]\n", stderr);
    exit(EXIT_SELF);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fork and exec argv; never returns in the child. */
static pid_t spawn(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "rusage: cannot execute %s: %s\n", argv[0],
                strerror(errno));
        _exit(EXIT_NOEXEC);
    }
    if (pid < 0) {
        fprintf(stderr, "rusage: fork: %s\n", strerror(errno));
        exit(EXIT_SELF);
    }
    return pid;
}

/* Wait for pid; fill *ru and return its exit code (128+N for signal N). */
static int reap(pid_t pid, struct rusage *ru)
{
    int status;
    while (wait4(pid, &status, 0, ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "rusage: wait4: %s\n", strerror(errno));
            exit(EXIT_SELF);
        }
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0)
        usage();
    const char *outfile = argv[1];
    FILE *out = fopen(outfile, "a");
    if (!out) {
        fprintf(stderr, "rusage: %s: %s\n", outfile, strerror(errno));
        return EXIT_SELF;
    }
    fcntl(fileno(out), F_SETFD, FD_CLOEXEC);
    fflush(stderr);

    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    double t0 = now_seconds();
    pid_t pid = spawn(argv + 3);
    int code = reap(pid, &ru);
    double wall = now_seconds() - t0;

    fprintf(out, "%.6f %ld %d\n", wall, (long)ru.ru_maxrss, code);
    if (fclose(out) != 0) {
        fprintf(stderr, "rusage: %s: %s\n", outfile, strerror(errno));
        return EXIT_SELF;
    }
    return code;
}
