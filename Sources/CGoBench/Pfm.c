// libpfm4: turns event names ("cycles", "L1-dcache-load-misses",
// "INST_RETIRED:ANY" on an Intel PMU) into perf_event_attr encodings. It
// lives alone in this file because <perfmon/pfmlib_perf_event.h> cannot be
// included next to <linux/perf_event.h>. Swift calls it from one file,
// Counters/EventNames.swift.
#include "CGoBenchPfm.h"

#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

static void do_init(void) { init_result = pfm_initialize(); }

int cgb_pfm_initialize(void) {
    pthread_once(&init_once, do_init);
    return init_result;
}

int cgb_pfm_encode(const char *name, cgb_pfm_encoding *out) {
    int rc = cgb_pfm_initialize();
    if (rc != PFM_SUCCESS) return rc;
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    char *fstr = NULL;
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.fstr = &fstr;
    arg.size = sizeof arg;
    // Privilege levels: user and kernel. Whether the kernel part is
    // excluded is decided when the event is opened (perf_event_paranoid).
    rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    memset(out, 0, sizeof *out);
    if (rc != PFM_SUCCESS) {
        free(fstr);
        return rc;
    }
    out->type = attr.type;
    out->config = attr.config;
    out->config1 = attr.config1;
    out->config2 = attr.config2;
    if (fstr) snprintf(out->fstr, sizeof out->fstr, "%s", fstr);
    free(fstr);
    return PFM_SUCCESS;
}

const char *cgb_pfm_strerror(int code) { return pfm_strerror(code); }

int cgb_pfm_err_notfound(void) { return PFM_ERR_NOTFOUND; }

int cgb_pfm_present_pmus(char *buf, size_t len) {
    if (len == 0) return 0;
    buf[0] = 0;
    if (cgb_pfm_initialize() != PFM_SUCCESS) return 0;
    int found = 0;
    size_t used = 0;
    for (int p = PFM_PMU_NONE; p < PFM_PMU_MAX; p++) {
        pfm_pmu_info_t info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (pfm_get_pmu_info((pfm_pmu_t)p, &info) != PFM_SUCCESS || !info.is_present) continue;
        int w = snprintf(buf + used, len - used, "%s%s", found ? "," : "", info.name);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
        found++;
    }
    return found;
}
