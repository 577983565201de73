// The perf_event_open shim: glibc has no wrapper for the syscall, and the
// attribute struct and ioctl numbers live in <linux/perf_event.h>, which
// cannot share a translation unit with libpfm4's headers (both define
// perf_type_id). Swift calls this from one file, Counters/PerfGroup.swift.
#include "CGoBenchPerf.h"

#ifdef __linux__
#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/// A counting (not sampling) event's attributes; callers set read_format,
/// disabled and inheritance.
static struct perf_event_attr counting_attr(uint32_t type, uint64_t config, uint64_t config1,
                                            uint64_t config2, int user_only) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.config1 = config1;
    attr.config2 = config2;
    attr.exclude_kernel = user_only ? 1 : 0;
    attr.exclude_hv = user_only ? 1 : 0;
    return attr;
}

int cgb_perf_open(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                  int group_fd, int user_only) {
    struct perf_event_attr attr = counting_attr(type, config, config1, config2, user_only);
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.disabled = group_fd == -1 ? 1 : 0;
    attr.inherit = 0;
    long fd = syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1 /* any cpu */,
                      group_fd, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

static int group_ioctl(int fd, unsigned long request) {
    return ioctl(fd, request, PERF_IOC_FLAG_GROUP) < 0 ? -errno : 0;
}

int cgb_perf_reset_group(int fd) { return group_ioctl(fd, PERF_EVENT_IOC_RESET); }
int cgb_perf_enable_group(int fd) { return group_ioctl(fd, PERF_EVENT_IOC_ENABLE); }
int cgb_perf_disable_group(int fd) { return group_ioctl(fd, PERF_EVENT_IOC_DISABLE); }

int cgb_perf_read_group(int fd, uint64_t *buf, int capacity) {
    ssize_t r = read(fd, buf, (size_t)capacity * sizeof(uint64_t));
    if (r < 0) return -errno;
    return (int)(r / (ssize_t)sizeof(uint64_t));
}

int cgb_perf_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int cgb_perf_open_process(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                          int pid, int user_only) {
    struct perf_event_attr attr = counting_attr(type, config, config1, config2, user_only);
    /* No PERF_FORMAT_GROUP: the kernel refuses group reads of inherited
       events, so each event is its own leader and is scaled on its own. */
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.disabled = 1;
    attr.enable_on_exec = 1;  /* count from the exec, not the fork */
    attr.inherit = 1;         /* and every thread the process starts */
    long fd = syscall(SYS_perf_event_open, &attr, (pid_t)pid, -1 /* any cpu */, -1 /* no group */,
                      PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

int cgb_perf_open_inherited(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                            int user_only) {
    struct perf_event_attr attr = counting_attr(type, config, config1, config2, user_only);
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.disabled = 1;
    attr.inherit = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

int cgb_perf_read_one(int fd, uint64_t out[3]) {
    ssize_t r = read(fd, out, 3 * sizeof(uint64_t));
    if (r < 0) return -errno;
    return r == 3 * (ssize_t)sizeof(uint64_t) ? 0 : -EIO;
}

#else  /* not Linux: no perf events; every open reports ENOSYS */
#include <errno.h>
int cgb_perf_open(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                  int group_fd, int user_only) { return -ENOSYS; }
int cgb_perf_reset_group(int fd) { return -ENOSYS; }
int cgb_perf_enable_group(int fd) { return -ENOSYS; }
int cgb_perf_disable_group(int fd) { return -ENOSYS; }
int cgb_perf_read_group(int fd, uint64_t *buf, int capacity) { return -ENOSYS; }
int cgb_perf_close(int fd) { return -ENOSYS; }
int cgb_perf_open_process(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                          int pid, int user_only) { return -ENOSYS; }
int cgb_perf_open_inherited(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                            int user_only) { return -ENOSYS; }
int cgb_perf_read_one(int fd, uint64_t out[3]) { return -ENOSYS; }
#endif
