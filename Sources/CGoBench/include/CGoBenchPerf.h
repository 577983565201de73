// perf_event_open for the harness's counter groups. The header deliberately
// includes nothing from <linux/perf_event.h>: libpfm4's headers redefine the
// same types, and both headers sit in this one module (see CGoBenchPfm.h).
// Symbols are prefixed `cgb_`. Errors come back as negative errno values.
#ifndef CGOBENCH_PERF_H
#define CGOBENCH_PERF_H

#include <stdint.h>

/// perf_event_attr.type values the harness names (linux/perf_event.h).
enum {
    CGB_PERF_TYPE_HARDWARE = 0,
    CGB_PERF_TYPE_SOFTWARE = 1,
    CGB_PERF_TYPE_TRACEPOINT = 2,
    CGB_PERF_TYPE_HW_CACHE = 3,
    CGB_PERF_TYPE_RAW = 4,
};

/// Opens one counting event on the calling thread (pid 0, any CPU), with
/// read_format GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING and
/// close-on-exec. `group_fd` -1 makes a group leader, opened disabled; a
/// member (group_fd >= 0) follows its leader's enable state.
/// `user_only` sets exclude_kernel and exclude_hv (needed for
/// unprivileged users when perf_event_paranoid >= 2).
/// Returns the fd, or -errno.
int cgb_perf_open(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                  int group_fd, int user_only);

/// Group-wide ioctls on a leader fd (PERF_IOC_FLAG_GROUP). 0 or -errno.
int cgb_perf_reset_group(int fd);
int cgb_perf_enable_group(int fd);
int cgb_perf_disable_group(int fd);

/// Reads a group through its leader into `buf` (`capacity` words):
/// buf[0] = nr, buf[1] = time_enabled, buf[2] = time_running,
/// buf[3 ..< 3 + nr] = the values in the order the events were opened.
/// Returns the number of words read, or -errno.
int cgb_perf_read_group(int fd, uint64_t *buf, int capacity);

/// Closes an event fd. 0 or -errno.
int cgb_perf_close(int fd);

/// Opens one counting event that follows process `pid` (a child held
/// before its exec, see CGoBenchSpawn.h) and every thread it starts:
/// inherit, enable_on_exec, opened disabled, read_format
/// TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING, close-on-exec, no group.
/// Counts of exited threads fold into this event, so a read after the
/// child is reaped covers the whole process. Returns the fd, or -errno.
int cgb_perf_open_process(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                          int pid, int user_only);

/// Opens a disabled counting event on the calling thread that every thread
/// it starts afterwards inherits (inherit=1, no group: the kernel does not
/// read inherited groups). A thread's counts join the event's when that
/// thread exits. Enable, disable and reset it with the *_group calls; read
/// it with cgb_perf_read_one. Returns the fd or -errno.
int cgb_perf_open_inherited(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                            int user_only);

/// Reads one event opened by cgb_perf_open_process: out[0] = value,
/// out[1] = time_enabled, out[2] = time_running. 0 or -errno.
int cgb_perf_read_one(int fd, uint64_t out[3]);

#endif
