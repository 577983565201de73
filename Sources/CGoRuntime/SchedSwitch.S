// The user-level context switch of the goroutine scheduler (runtime/asm_amd64.s
// gogo and mcall, reduced to one primitive). See include/CGoRuntimeSched.h.
//
//   void cgort_ctx_switch(void **save_sp, void *load_sp)
//
// saves what the System V ABI makes callee-saved on the current stack: rbp,
// rbx, r12-r15, and the control bits of MXCSR and the x87 control word
// (AMD64 ABI 3.2.1: "the control bits of the MXCSR register and the x87 FPU
// control word are callee-saved"); stores the stack pointer into *save_sp,
// loads load_sp and restores the same from the other stack, then pops its
// return address and jumps to it. Every other register is caller-saved, so
// the C call that reaches here has already given them up.
//
// Why jmp and not ret: a `ret` predicts its target from the return-address
// stack, which holds the calls of the stack being left, so a `ret` across a
// switch is always mispredicted; an indirect jmp is predicted from its own
// history, which for a scheduler is regular (g0 resumes at one place, a
// yielding goroutine at another). Measured paired (`gobench ab`, 20 rounds,
// AMD EPYC family 25 model 17): goroutine/yield/procs=1 94.0 -> 66.3 ns/op
// (0.71 [0.70, 0.72]), chan/goroutine/pingpong/procs=1 0.84, goroutine/spawn
// 0.84. (Go's gogo ends in a JMP too.) cgort_gogo and cgort_mcall reach this
// as a tail call for the same reason (Sched.c). As boost.context's jump_fcontext,
// stmxcsr/ldmxcsr move the whole of MXCSR (its status flags, which the ABI
// leaves caller-saved, travel with the control bits) and the x87 status word
// is not touched. Cost, measured paired against the switch without them
// (`gobench ab`, 40-60 rounds, AMD EPYC family 26): about +6-9% on
// goroutine/yield/procs=1 (~157 ns/op, 4 switches per op), i.e. 2-3 ns per
// switch; it is the saving (stmxcsr, fnstcw) more than the reloading: a
// variant that reloaded only when the two sides' control bits differed
// measured no faster, so the simple form stays.
// Go's own gogo saves neither (Go code never changes rounding or exception
// masks); Swift and C code on a goroutine may (fesetround), and without this
// its mode would leak to g0 and to every goroutine run after it on that M.
//
// Frame at the switch, from the saved stack pointer up (both stacks always
// have this layout, so one CFI description is right on either side):
//   sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes unused
//   sp+8   r15, r14, r13, r12, rbx, rbp  (sp+8 .. sp+48)
//   sp+56  return address (popped into rcx and jumped to: the CFI says so)
//
// A new goroutine's stack is prepared by cgort_gctx_prepare so that its
// first switch "returns" into cgort_ctx_trampoline with r12 = the context
// and the creator's MXCSR and x87 control word (a new goroutine starts with
// its creator's floating-point modes, as a new thread does with its
// creator's). The trampoline is the outermost frame of every goroutine: rip
// is marked undefined in its CFI (libunwind stops there) and it zeroes rbp
// (a frame pointer walk stops there); the two words above it on the stack
// are zero as well.

#if defined(__x86_64__) && defined(__linux__)
    .text
    .globl  cgort_ctx_switch
    .type   cgort_ctx_switch, @function
    .p2align 4
cgort_ctx_switch:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r15, 0
    subq    $8, %rsp                // the control-state slot
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    popq    %rcx
    .cfi_adjust_cfa_offset -8
    .cfi_register rip, rcx
    jmpq    *%rcx
    .cfi_endproc
    .size   cgort_ctx_switch, .-cgort_ctx_switch

    .globl  cgort_ctx_trampoline
    .type   cgort_ctx_trampoline, @function
    .p2align 4
cgort_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    xorl    %ebp, %ebp
    movq    %r12, %rdi
    callq   cgort_gstart@PLT
    ud2
    .cfi_endproc
    .size   cgort_ctx_trampoline, .-cgort_ctx_trampoline

    .section .note.GNU-stack,"",@progbits
#endif
