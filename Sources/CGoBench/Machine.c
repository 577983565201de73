// See CGoBenchMachine.h. CPUID is an instruction, not a system call, so
// Swift needs this shim to issue it.
#include "CGoBenchMachine.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

int cgb_hypervisor_vendor(char out[13]) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31))) return 0;
    __cpuid(0x40000000, a, b, c, d);
    memcpy(out, &b, 4);
    memcpy(out + 4, &c, 4);
    memcpy(out + 8, &d, 4);
    out[12] = 0;
    return 1;
}
#else
int cgb_hypervisor_vendor(char out[13]) {
    out[0] = 0;
    return 0;
}
#endif
