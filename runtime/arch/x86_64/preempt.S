/*
 * preempt.S - the asynchronous preemption trampoline (Go's asyncPreempt,
 * preempt_amd64.s, redone for C code, which uses the red zone).
 *
 * The SIGURG handler (preempt.c) found the G at a safe PC.  It wrote the
 * interrupted RIP at old_rsp - RT_PREEMPT_GAP and made the G resume here
 * with rsp = old_rsp - RT_PREEMPT_GAP, so the 128-byte red zone below the
 * interrupted stack pointer is left untouched.  We save every register the
 * interrupted code may own, call rt_preempt_entry (which yields the G
 * exactly as if it had called sched_yield), restore everything, and
 * `ret $(RT_PREEMPT_GAP - 8)`: that pops the saved RIP and leaves rsp at
 * old_rsp in one instruction, with no register used for the jump.
 *
 * Frame (growing down from entry rsp = E):
 *   E + 0        interrupted RIP (written by the handler)
 *   E - 8        RFLAGS
 *   E - 16..-128 rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15
 *   then an XSAVE area (rt_xsave_size bytes, 64-aligned) holding x87, SSE,
 *   AVX and AVX-512 state, or an FXSAVE area when XSAVE is missing.
 */
#define RT_PREEMPT_GAP 256

	.text
	.globl rt_asyncpreempt
	.hidden rt_asyncpreempt
	.type rt_asyncpreempt, @function
	.p2align 4
rt_asyncpreempt:
	/* Unwind info: the interrupted frame's rsp (the CFA) is entry rsp +
	 * GAP, its PC lies at entry rsp, and it is a signal-like frame (the PC
	 * is not a return address: no "-1" when looking up its FDE).  Forced
	 * unwinding (asynchronous cancellation) and libunwind stack dumps go
	 * through here into the interrupted code. */
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_def_cfa rsp, RT_PREEMPT_GAP
	.cfi_offset rip, -RT_PREEMPT_GAP
	pushfq
	.cfi_adjust_cfa_offset 8
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	.cfi_adjust_cfa_offset 120
	.cfi_offset rbx, -(RT_PREEMPT_GAP + 24)
	.cfi_offset rbp, -(RT_PREEMPT_GAP + 64)
	.cfi_offset r12, -(RT_PREEMPT_GAP + 104)
	.cfi_offset r13, -(RT_PREEMPT_GAP + 112)
	.cfi_offset r14, -(RT_PREEMPT_GAP + 120)
	.cfi_offset r15, -(RT_PREEMPT_GAP + 128)
	movq	%rsp, %rbx		/* callee-saved: survives the call */
	.cfi_def_cfa_register rbx
	subq	rt_xsave_size(%rip), %rsp
	andq	$-64, %rsp
	cmpb	$0, rt_have_xsave(%rip)
	je	1f
	/* XSAVE writes only the XSTATE_BV bits of enabled components and
	 * never XCOMP_BV or the reserved header bytes, while XRSTOR faults
	 * (#GP) when any of those is non-zero: the area lies over old stack
	 * contents, so clear the 64-byte header first (as the kernel does). */
	xorl	%eax, %eax
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	movl	$-1, %eax
	movl	$-1, %edx
	xsave64	(%rsp)
	jmp	2f
1:	fxsave64 (%rsp)
2:	cld
	call	rt_preempt_entry
	cmpb	$0, rt_have_xsave(%rip)
	je	3f
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	jmp	4f
3:	fxrstor64 (%rsp)
4:	movq	%rbx, %rsp
	.cfi_def_cfa_register rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	popfq
	ret	$(RT_PREEMPT_GAP - 8)
	.cfi_endproc
	.size rt_asyncpreempt, .-rt_asyncpreempt

	.section .note.GNU-stack,"",@progbits
