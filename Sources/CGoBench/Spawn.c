// Held children for per-process perf counting: see CGoBenchSpawn.h.
#define _GNU_SOURCE
#include "CGoBenchSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_pair(int p[2]) {
    if (p[0] >= 0) close(p[0]);
    if (p[1] >= 0) close(p[1]);
}

int cgb_spawn_held(const char *path, char *const argv[], char *const envp[], const char *cwd,
                   cgb_held_child *child) {
    int hold[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        int e = errno;
        close_pair(hold); close_pair(out); close_pair(err);
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close_pair(hold); close_pair(out); close_pair(err);
        return -e;
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only until execve.
        close(hold[1]);
        close(out[0]);
        close(err[0]);
        if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
        if (cwd != NULL && chdir(cwd) < 0) _exit(127);
        char byte;
        ssize_t r;
        do { r = read(hold[0], &byte, 1); } while (r < 0 && errno == EINTR);
        if (r != 1) _exit(127);  // the parent closed without releasing
        execve(path, argv, envp);
        _exit(127);
    }
    close(hold[0]);
    close(out[1]);
    close(err[1]);
    child->pid = pid;
    child->release_fd = hold[1];
    child->stdout_fd = out[0];
    child->stderr_fd = err[0];
    return 0;
}

int cgb_spawn_release(cgb_held_child *child) {
    char byte = 1;
    ssize_t r;
    do { r = write(child->release_fd, &byte, 1); } while (r < 0 && errno == EINTR);
    int e = r == 1 ? 0 : (r < 0 ? errno : EIO);
    close(child->release_fd);
    child->release_fd = -1;
    return -e;
}

/// Appends what one read returns; 0 at end of file, 1 for more, -errno.
static int read_some(int fd, char **buf, size_t *len, size_t *cap) {
    if (*cap - *len < 65536) {
        size_t ncap = *cap * 2 + 65536;
        char *nbuf = realloc(*buf, ncap + 1);
        if (nbuf == NULL) return -ENOMEM;
        *buf = nbuf;
        *cap = ncap;
    }
    ssize_t r = read(fd, *buf + *len, *cap - *len);
    if (r < 0) return errno == EINTR || errno == EAGAIN ? 1 : -errno;
    if (r == 0) return 0;
    *len += (size_t)r;
    return 1;
}

int cgb_spawn_finish(cgb_held_child *child, char **out, size_t *out_len, char **err,
                     size_t *err_len, int *status) {
    if (child->release_fd >= 0) {  // never released: let it exit
        close(child->release_fd);
        child->release_fd = -1;
    }
    char *bufs[2] = {NULL, NULL};
    size_t lens[2] = {0, 0}, caps[2] = {0, 0};
    struct pollfd fds[2] = {{child->stdout_fd, POLLIN, 0}, {child->stderr_fd, POLLIN, 0}};
    int open_count = 2, failure = 0;
    while (open_count > 0 && failure == 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            failure = -errno;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            int r = read_some(fds[i].fd, &bufs[i], &lens[i], &caps[i]);
            if (r < 0) { failure = r; break; }
            if (r == 0) {
                close(fds[i].fd);
                fds[i].fd = -1;  // poll ignores negative fds
                open_count--;
            }
        }
    }
    for (int i = 0; i < 2; i++) if (fds[i].fd >= 0) close(fds[i].fd);
    if (failure != 0) kill(child->pid, SIGKILL);
    int wstatus = 0;
    pid_t w;
    do { w = waitpid(child->pid, &wstatus, 0); } while (w < 0 && errno == EINTR);
    if (w < 0 && failure == 0) failure = -errno;
    if (failure != 0) {
        free(bufs[0]);
        free(bufs[1]);
        return failure;
    }
    for (int i = 0; i < 2; i++) {
        if (bufs[i] == NULL) bufs[i] = malloc(1);
        if (bufs[i] == NULL) { free(bufs[0]); free(bufs[1]); return -ENOMEM; }
        bufs[i][lens[i]] = 0;
    }
    *out = bufs[0]; *out_len = lens[0];
    *err = bufs[1]; *err_len = lens[1];
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return 0;
}
