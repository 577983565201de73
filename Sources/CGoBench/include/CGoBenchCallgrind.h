// valgrind/callgrind.h client requests, wrapped in functions: the requests
// are inline-assembly macros Swift cannot call. Outside valgrind each is a
// few no-op instructions. Built without valgrind's headers, every function
// is a no-op and cgb_callgrind_supported() returns 0.
// Symbols are prefixed `cgb_`.
#ifndef CGOBENCH_CALLGRIND_H
#define CGOBENCH_CALLGRIND_H

/// 1 when this binary was built with valgrind/callgrind.h.
int cgb_callgrind_supported(void);
/// RUNNING_ON_VALGRIND: 0 natively, else the valgrind nesting depth.
int cgb_running_on_valgrind(void);
/// CALLGRIND_ZERO_STATS: zero the costs of every thread.
void cgb_callgrind_zero_stats(void);
/// CALLGRIND_START_INSTRUMENTATION / STOP (global; flush translations).
void cgb_callgrind_start_instrumentation(void);
void cgb_callgrind_stop_instrumentation(void);
/// CALLGRIND_TOGGLE_COLLECT: flips collection for the calling thread.
void cgb_callgrind_toggle_collect(void);
/// CALLGRIND_DUMP_STATS_AT(name): write a dump (all threads) whose
/// "desc: Trigger: Client Request: <name>" line names it, then zero.
void cgb_callgrind_dump_stats_at(const char *name);

#endif
