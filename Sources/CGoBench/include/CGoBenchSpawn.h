// A child process held between fork and exec, so that the parent can
// attach perf events to it (perf_event_open with its pid, enable_on_exec)
// before it runs a single instruction of the new program; `perf stat`
// starts its workload the same way. Symbols are prefixed `cgb_`. Errors
// come back as negative errno values.
#ifndef CGOBENCH_SPAWN_H
#define CGOBENCH_SPAWN_H

#include <stddef.h>

/// A held child and the parent's ends of its pipes.
typedef struct {
    int pid;
    /// Write one byte (cgb_spawn_release) to let the child exec; closing it
    /// without writing makes the child exit with status 127.
    int release_fd;
    /// Read ends of the child's standard output and standard error.
    int stdout_fd;
    int stderr_fd;
} cgb_held_child;

/// Forks a child that redirects its standard output and error to pipes,
/// changes to `cwd` (NULL: stays), then waits for the release byte and
/// execve()s `path` with `argv` and `envp` (both NULL-terminated). Between
/// fork and exec the child only makes async-signal-safe calls, so forking
/// a multi-threaded parent is safe. A failed chdir or execve exits 127.
/// Returns 0 and fills `child`, or -errno (nothing left open).
int cgb_spawn_held(const char *path, char *const argv[], char *const envp[], const char *cwd,
                   cgb_held_child *child);

/// Lets a held child exec. 0 or -errno.
int cgb_spawn_release(cgb_held_child *child);

/// Reads both pipes to their end (poll, so that neither can fill and block
/// the child), closes them, and reaps the child. `*out` / `*err` are
/// malloc'd (caller frees) with their lengths; `*status` is the exit status,
/// or 128 + the signal number that killed the child. 0 or -errno.
int cgb_spawn_finish(cgb_held_child *child, char **out, size_t *out_len, char **err,
                     size_t *err_len, int *status);

#endif
