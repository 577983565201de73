// The user-level context switch of the goroutine scheduler (runtime/asm_amd64.s
// gogo and mcall, reduced to one primitive). See include/CGoRuntimeSched.h.
//
//   void cgort_ctx_switch(void **save_sp, void *load_sp)
//
// saves the callee-saved registers of the System V ABI (rbp, rbx, r12-r15)
// on the current stack, stores the stack pointer into *save_sp, loads
// load_sp and pops the same six registers and the return address from the
// other stack. Every other register is caller-saved, so the C call that
// reaches here has already given them up. Both stacks always have the same
// layout at the switch (six registers above a return address), so one CFI
// description is right on either side.
//
// A new goroutine's stack is prepared by cgort_gctx_prepare so that its
// first switch "returns" into cgort_ctx_trampoline with r12 = the context.
// The trampoline is the outermost frame of every goroutine: rip is marked
// undefined in its CFI (libunwind stops there) and it zeroes rbp (a frame
// pointer walk stops there); the two words above it on the stack are zero
// as well.

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
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
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
    ret
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
