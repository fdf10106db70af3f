/*
 * vfork.S - our vfork(): the system call, plus a flag telling greenrun it
 * runs in the child (shim/exec.c: shim_in_vfork).
 *
 * The child of vfork shares the parent's memory (it runs on the parent's
 * stack until it execs or exits), so it must not touch any greenrun state:
 * dispositions, G signal masks, the fd table, wait queues.  Every
 * interposed entry point checks shim_in_vfork and calls the C library
 * directly then.  A C wrapper cannot call vfork (its frame would be reused
 * by the child), hence this: like glibc's, it keeps the return address in
 * a register across the call.  The parent resumes only after the child
 * has exec'd or exited, and clears the flag.
 */
	.text
	.globl vfork
	.type vfork, @function
	.p2align 4
vfork:
	.cfi_startproc
	popq	%rdi			/* return address */
	.cfi_adjust_cfa_offset -8
	.cfi_register rip, rdi
	movl	$58, %eax		/* SYS_vfork */
	syscall
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rip, 0
	testq	%rax, %rax
	jnz	1f
	movl	$1, shim_in_vfork(%rip)	/* child */
	ret
1:	movl	$0, shim_in_vfork(%rip)	/* parent (or failure) */
	cmpq	$-4095, %rax
	jae	2f
	ret
2:	negl	%eax
	movl	%eax, %edi
	jmp	shim_vfork_failed
	.cfi_endproc
	.size vfork, .-vfork

	.globl __vfork
	.set __vfork, vfork

	.section .note.GNU-stack,"",@progbits
