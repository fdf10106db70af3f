/*
 * switch.S - x86_64 context switch between Gs and an M's g0.
 *
 * void rt_ctx_switch(struct rt_ctx *from, const struct rt_ctx *to)
 *   Saves the callee-saved state of the caller on its own stack, stores the
 *   stack pointer in from->rsp, installs to->fsbase as the FS base (the
 *   thread pointer: every G has its own glibc TCB, DESIGN.md section 3),
 *   loads to->rsp and returns into the context saved there.
 *
 * Saved frame, at ctx->rsp (offsets in bytes; C side in proc.c builds the
 * same frame for a new context):
 *      0   MXCSR (4 bytes) and x87 control word (2 bytes, at +4)
 *      8   r15
 *     16   r14
 *     24   r13
 *     32   r12
 *     40   rbx
 *     48   rbp
 *     56   return address
 *
 * struct rt_ctx: 0 rsp, 8 fsbase.
 *
 * The FS base is written with WRFSBASE when the kernel enabled FSGSBASE
 * (rt_have_fsgsbase, from AT_HWCAP2), else with arch_prctl(ARCH_SET_FS).
 * The write is skipped when from->fsbase == to->fsbase.  Signal handlers that
 * interrupt the few instructions between the FS write and the stack switch
 * see the new FS with the old stack; our handlers only read async-safe state.
 *
 * As Boost.Context's jump_x86_64_sysv_elf_gas.S (design, not code), with the
 * FS base added.
 */
#define ARCH_SET_FS 0x1002
#define SYS_arch_prctl 158

	.text
	.globl rt_ctx_switch
	.hidden rt_ctx_switch
	.type rt_ctx_switch, @function
	.p2align 4
rt_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)

	movq	%rsp, 0(%rdi)		/* from->rsp */
	movq	8(%rsi), %rax		/* to->fsbase */
	cmpq	8(%rdi), %rax
	je	2f
	cmpb	$0, rt_have_fsgsbase(%rip)
	je	1f
	wrfsbase %rax
	jmp	2f
1:	/* arch_prctl(ARCH_SET_FS, to->fsbase); syscall keeps r8 */
	movq	%rsi, %r8
	movq	%rax, %rsi
	movl	$ARCH_SET_FS, %edi
	movl	$SYS_arch_prctl, %eax
	syscall
	movq	%r8, %rsi
2:
	movq	0(%rsi), %rsp		/* to->rsp */
	/* LDMXCSR and FLDCW are slow: load only when the value differs
	 * (it almost never does).  -8(%rsp) is free scratch space below
	 * the saved frame. */
	stmxcsr	-8(%rsp)
	movl	-8(%rsp), %eax
	cmpl	(%rsp), %eax
	je	3f
	ldmxcsr	(%rsp)
3:	fnstcw	-8(%rsp)
	movw	-8(%rsp), %ax
	cmpw	4(%rsp), %ax
	je	4f
	fldcw	4(%rsp)
4:	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size rt_ctx_switch, .-rt_ctx_switch

/*
 * rt_ctx_start: first return address of a new context.  r12 = function,
 * r13 = its argument.  Calls fn(arg); fn must never return.  The CFI marks
 * the return address undefined, so unwinders (libunwind, the C++ forced
 * unwind of pthread_exit) stop here: this is the outermost frame of a G.
 */
	.globl rt_ctx_start
	.hidden rt_ctx_start
	.type rt_ctx_start, @function
	.p2align 4
rt_ctx_start:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	call	*%r12
	ud2
	.cfi_endproc
	.size rt_ctx_start, .-rt_ctx_start

	.section .note.GNU-stack,"",@progbits
