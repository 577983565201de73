// Callgrind client requests as plain functions (the requests are inline
// assembly in macros, invisible to Swift). Called from one Swift file,
// Counters/CallgrindClient.swift, around the timed loop of a benchmark
// that runs under `valgrind --tool=callgrind --collect-atstart=no
// --instr-atstart=no`.
#include "CGoBenchCallgrind.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#define CGB_HAVE_CALLGRIND 1
#endif
#endif

#ifdef CGB_HAVE_CALLGRIND
#include <valgrind/callgrind.h>

int cgb_callgrind_supported(void) { return 1; }
int cgb_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }
void cgb_callgrind_zero_stats(void) { CALLGRIND_ZERO_STATS; }
void cgb_callgrind_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
void cgb_callgrind_stop_instrumentation(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cgb_callgrind_toggle_collect(void) { CALLGRIND_TOGGLE_COLLECT; }
void cgb_callgrind_dump_stats_at(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
#else
int cgb_callgrind_supported(void) { return 0; }
int cgb_running_on_valgrind(void) { return 0; }
void cgb_callgrind_zero_stats(void) {}
void cgb_callgrind_start_instrumentation(void) {}
void cgb_callgrind_stop_instrumentation(void) {}
void cgb_callgrind_toggle_collect(void) {}
void cgb_callgrind_dump_stats_at(const char *name) { (void)name; }
#endif
