// libpfm4 event-name encoding, kept out of every other translation unit:
// <perfmon/pfmlib_perf_event.h> redefines the types of <linux/perf_event.h>.
// This header exposes only plain C types. Symbols are prefixed `cgb_`.
#ifndef CGOBENCH_PFM_H
#define CGOBENCH_PFM_H

#include <stddef.h>
#include <stdint.h>

/// What libpfm4 made of an event name: the perf_event_attr fields the
/// harness uses, and libpfm4's fully qualified spelling of the event.
typedef struct {
    uint32_t type;
    uint64_t config;
    uint64_t config1;
    uint64_t config2;
    char fstr[256];
} cgb_pfm_encoding;

/// pfm_initialize(); safe to call repeatedly. 0 (PFM_SUCCESS) or a negative
/// PFM_ERR_* code.
int cgb_pfm_initialize(void);

/// pfm_get_os_event_encoding(name, user+kernel, PFM_OS_PERF_EVENT).
/// 0 or a negative PFM_ERR_* code (PFM_ERR_NOTFOUND: unknown name).
int cgb_pfm_encode(const char *name, cgb_pfm_encoding *out);

/// pfm_strerror.
const char *cgb_pfm_strerror(int code);

/// PFM_ERR_NOTFOUND, for callers that must tell "unknown name" apart.
int cgb_pfm_err_notfound(void);

/// Names of the PMUs libpfm4 detected on this machine, comma separated,
/// into `buf` (always NUL-terminated). Returns how many were found.
int cgb_pfm_present_pmus(char *buf, size_t len);

#endif
