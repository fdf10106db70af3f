/*
 * traceback.c - stacks of Gs for thread dumps: unwinding (libunwind),
 * known call chains, symbol names.  Used by dump.c, one dump at a time
 * (its dumplock guards every static here).
 *
 * A G that is not running has its callee-saved registers, stack pointer
 * and return address saved by rt_ctx_switch (arch/x86_64/switch.S: frame
 * at ctx.rsp = MXCSR/FCW, r15, r14, r13, r12, rbx, rbp, return address).
 * rt_traceback_saved builds a ucontext from them and hands it to libunwind
 * (unw_init_local2), which walks the DWARF CFI of every frame; a G that
 * never ran (its frame returns into rt_ctx_start) has no stack yet.
 *
 * The G may start running while we read its stack.  Reads outside its
 * stack are avoided (bounds checks), and a fault while libunwind follows a
 * stack that is being rewritten is caught: rt_dump_fault, called first
 * thing by the SIGSEGV handler, longjmps back into walk() when the
 * faulting thread is the one unwinding.  dump.c rereads the G's status and
 * stack pointer afterwards and drops a stack that changed.
 *
 * Known call chains (see below) make a dump of 100,000 identical threads
 * one libunwind walk; own symbol-table reading makes names cheap (see
 * "Symbol tables").  Hand-rolled unwinding was rejected: programs built
 * without frame pointers are the norm, and libunwind reads their CFI.
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <libunwind.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

/* libunwind's generic accessor lookup (exported by libunwind.so; not
 * renamed by UNW_LOCAL_ONLY). */
extern unw_accessors_t *_Ux86_64_get_accessors(unw_addr_space_t);

static sigjmp_buf fault_jmp;
static volatile pid_t fault_tid; /* thread inside a guarded unwind, or 0 */

void rt_dump_fault(void)
{
	pid_t t = fault_tid;
	if (t && t == (pid_t)rt_syscall0(SYS_gettid)) {
		fault_tid = 0;
		siglongjmp(fault_jmp, 1);
	}
}

/* Walk from uc, storing up to RT_TB_FRAMES program counters after
 * skipping `skip` frames.  A fault ends the walk (F_FAULT). */
static int walk(unw_context_t *uc, uintptr_t *ips, uintptr_t *sps, int skip,
		uint8_t *flags)
{
	static volatile int n, left; /* survive the longjmp; one dump at a time */
	static unw_cursor_t c;
	n = 0;
	left = skip;
	fault_tid = (pid_t)rt_syscall0(SYS_gettid);
	if (sigsetjmp(fault_jmp, 1)) {
		*flags |= RT_TB_FAULT;
		return n;
	}
	static bool policy;
	if (!policy) { /* no global lock (and its sigprocmask) per unw_step */
		unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
		policy = true;
	}
	if (unw_init_local2(&c, uc, 0) == 0) {
		for (int depth = 0; depth < 256 && n < RT_TB_FRAMES; depth++) {
			unw_word_t ip = 0, sp = 0;
			if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
				break;
			if (sps && unw_get_reg(&c, UNW_REG_SP, &sp) < 0)
				break;
			if (left > 0) {
				left--;
			} else {
				if (sps)
					sps[n] = sp;
				ips[n++] = ip;
			}
			if (unw_step(&c) <= 0)
				break;
		}
	}
	fault_tid = 0;
	return n;
}

/*
 * Known call chains.  Thousands of Gs parked at the same place have the
 * same chain of return addresses at the same distances above their stack
 * pointers.  After libunwind unwound one such G we remember, for its first
 * program counter, every frame's pc and stack-pointer offset; another G
 * parked at that pc is accepted as having the same stack only if every
 * remembered return address is really stored on its stack where the
 * chain says (the word below each caller frame's stack pointer).  Anything
 * else goes through libunwind.  This makes a dump of 100,000 identical
 * threads one libunwind walk plus 100,000 checks of a few words each,
 * instead of ~20 us of DWARF work (and sigprocmask calls) per thread.
 * Guarded by dumplock; kept across dumps.
 */
#define NCHAINS 1024

struct chain {
	uintptr_t ip[RT_TB_FRAMES];
	uintptr_t off[RT_TB_FRAMES]; /* sp of frame i - sp of frame 0 */
	int32_t n;
};
static struct chain chains[NCHAINS];

#define CHAIN_PROBE 64 /* chains tried per first pc (most park in mcall) */

static size_t chain_home(uintptr_t ip0)
{
	return (size_t)((ip0 * 0x9e3779b97f4a7c15ull) >> 40) % NCHAINS;
}

/* Does g's stack hold chain c from sp0 on?  Reads are bounds-checked. */
static bool chain_matches(const struct chain *c, uintptr_t sp0, uintptr_t hi)
{
	for (int i = 1; i < c->n; i++) {
		uintptr_t sp = sp0 + c->off[i];
		if (sp - 8 < sp0 || sp > hi)
			return false;
		if (*(const volatile uintptr_t *)(sp - 8) != c->ip[i])
			return false;
	}
	return true;
}

/* The saved context of a G that is not running (switch.S frame). */
int rt_traceback_saved(struct rt_g *g, uint64_t rsp, uintptr_t *ips,
		       uint8_t *flags)
{
	if (!rsp || (rsp & 7))
		return 0;
	if (!g->ismain && (rsp < g->stk.lo || rsp + 64 > g->stk.hi))
		return 0;
	uintptr_t ip0 = ((const volatile uint64_t *)rsp)[7];
	uintptr_t sp0 = rsp + 64;
	if (ip0 == (uintptr_t)rt_ctx_start) { /* never ran (rt_ctx_make) */
		*flags |= RT_TB_NEW;
		return 0;
	}
	uintptr_t hi = g->stk.hi;
	size_t home = chain_home(ip0);
	for (int k = 0; k < CHAIN_PROBE; k++) {
		const struct chain *c = &chains[(home + k) % NCHAINS];
		if (c->n == 0)
			break;
		if (c->ip[0] == ip0 && chain_matches(c, sp0, hi)) {
			memcpy(ips, c->ip, (size_t)c->n * sizeof *ips);
			return c->n;
		}
	}
	static unw_context_t uc; /* ~1 KB; one dump at a time */
	memset(&uc, 0, sizeof uc);
	const volatile uint64_t *f = (const uint64_t *)rsp;
	greg_t *r = uc.uc_mcontext.gregs;
	r[REG_R15] = (greg_t)f[1];
	r[REG_R14] = (greg_t)f[2];
	r[REG_R13] = (greg_t)f[3];
	r[REG_R12] = (greg_t)f[4];
	r[REG_RBX] = (greg_t)f[5];
	r[REG_RBP] = (greg_t)f[6];
	r[REG_RIP] = (greg_t)f[7];
	r[REG_RSP] = (greg_t)(rsp + 64);
	static uintptr_t sps[RT_TB_FRAMES];
	uint8_t fl = 0;
	int n = walk(&uc, ips, sps, 0, &fl);
	*flags |= fl;
	if (n > 1 && !fl && sps[0] == sp0) { /* remember it */
		struct chain *c = NULL;
		for (int k = 0; k < CHAIN_PROBE && !c; k++) {
			struct chain *t = &chains[(home + k) % NCHAINS];
			if (t->n == 0)
				c = t;
		}
		if (!c) /* all probed slots used: replace one */
			c = &chains[(home + (sp0 >> 4) % CHAIN_PROBE) % NCHAINS];
		for (int i = 0; i < n; i++) {
			c->ip[i] = ips[i];
			c->off[i] = sps[i] - sp0;
		}
		c->n = n;
	}
	return n;
}

/* The calling thread's own stack, skipping `skip` frames of the caller's. */
int rt_traceback_self(uintptr_t *ips, int skip, uint8_t *flags)
{
	static unw_context_t uc; /* one traceback at a time (dumplock) */
	if (unw_getcontext(&uc) != 0)
		return 0;
	return walk(&uc, ips, NULL, skip + 1, flags);
}

/*
 * Symbol tables.  libunwind's get_proc_name re-reads /proc/self/maps and
 * maps the ELF file on every call: with 10,000 threads (20,000 mappings,
 * 1.5 MB of maps) that is ~60 ms per name.  So we read each object's
 * .symtab (else .dynsym) once, with raw system calls, keep it mapped for
 * later dumps, and look names up there; libunwind's reader stays as the
 * fallback.  Guarded by dumplock (one dump at a time).
 */
#define MAXOBJS 64

struct symtab {
	uintptr_t bias;         /* link_map l_addr */
	const ElfW(Sym) *sym;
	size_t nsym;
	const char *str;
	size_t strsz;
	bool tried;
	char path[200];
};
static struct symtab objs[MAXOBJS];
static int nobjs;

static void symtab_load(struct symtab *t)
{
	t->tried = true;
	long fd = rt_syscall4(SYS_openat, AT_FDCWD, t->path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct stat st;
	long r = rt_syscall2(SYS_fstat, fd, &st);
	long m = r == 0 && st.st_size > (off_t)sizeof(ElfW(Ehdr))
			 ? rt_syscall6(SYS_mmap, 0, st.st_size, PROT_READ,
				       MAP_PRIVATE, fd, 0)
			 : -1;
	rt_syscall1(SYS_close, fd);
	if (m < 0 && m > -4096)
		return;
	if (m == -1)
		return;
	const char *base = (const char *)m;
	size_t size = (size_t)st.st_size;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || !eh->e_shoff ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > size)
		goto unmap;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(base + eh->e_shoff);
	const ElfW(Shdr) *pick = NULL;
	for (int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB ||
		    (sh[i].sh_type == SHT_DYNSYM && !pick))
			pick = &sh[i];
	if (!pick || pick->sh_link >= eh->e_shnum ||
	    pick->sh_offset + pick->sh_size > size ||
	    sh[pick->sh_link].sh_offset + sh[pick->sh_link].sh_size > size)
		goto unmap;
	t->sym = (const ElfW(Sym) *)(base + pick->sh_offset);
	t->nsym = pick->sh_size / sizeof(ElfW(Sym));
	t->str = base + sh[pick->sh_link].sh_offset;
	t->strsz = sh[pick->sh_link].sh_size;
	return; /* stays mapped for later dumps */
unmap:
	rt_syscall2(SYS_munmap, m, st.st_size);
}

/* Name of the function containing ip in its object's symbol table. */
static bool symtab_lookup(uintptr_t ip, const struct link_map *lm,
			  char *name, size_t len, uintptr_t *off)
{
	const char *path = lm->l_name && lm->l_name[0] ? lm->l_name : "/proc/self/exe";
	struct symtab *t = NULL;
	for (int i = 0; i < nobjs; i++)
		if (objs[i].bias == lm->l_addr && !strcmp(objs[i].path, path))
			t = &objs[i];
	if (!t) {
		if (nobjs == MAXOBJS || strlen(path) >= sizeof objs[0].path)
			return false;
		t = &objs[nobjs++];
		t->bias = lm->l_addr;
		strcpy(t->path, path);
		symtab_load(t);
	}
	if (!t->sym)
		return false;
	uintptr_t rel = ip - lm->l_addr;
	for (size_t i = 0; i < t->nsym; i++) {
		const ElfW(Sym) *y = &t->sym[i];
		if (ELF64_ST_TYPE(y->st_info) != STT_FUNC || !y->st_value ||
		    rel < y->st_value || rel >= y->st_value + y->st_size ||
		    y->st_name >= t->strsz)
			continue;
		strncpy(name, t->str + y->st_name, len - 1);
		name[len - 1] = 0;
		*off = rel - y->st_value;
		return true;
	}
	return false;
}

void rt_symbolize(uintptr_t ip, struct rt_sym *s)
{
	s->name[0] = s->obj[0] = 0;
	s->off = 0;
	Dl_info di;
	struct link_map *lm = NULL;
	memset(&di, 0, sizeof di);
	if (dladdr1((void *)ip, &di, (void **)&lm, RTLD_DL_LINKMAP) && di.dli_fname) {
		const char *b = strrchr(di.dli_fname, '/');
		b = b ? b + 1 : di.dli_fname;
		strncpy(s->obj, b[0] ? b : "?", sizeof s->obj - 1);
		s->obj[sizeof s->obj - 1] = 0;
	}
	/* a return address may lie past the end of a noreturn call's
	 * function: look up ip - 1 and report the offset of ip */
	uintptr_t off = 0;
	if (lm && symtab_lookup(ip - 1, lm, s->name, sizeof s->name, &off)) {
		s->off = off + 1;
		return;
	}
	unw_accessors_t *acc = _Ux86_64_get_accessors(unw_local_addr_space);
	unw_word_t uoff = 0;
	if (acc && acc->get_proc_name &&
	    acc->get_proc_name(unw_local_addr_space, ip - 1, s->name,
			       sizeof s->name, &uoff, NULL) == 0) {
		s->off = uoff + 1;
	} else if (di.dli_sname) {
		strncpy(s->name, di.dli_sname, sizeof s->name - 1);
		s->off = ip - (uintptr_t)di.dli_saddr;
	} else {
		s->name[0] = 0;
		s->off = ip - (uintptr_t)di.dli_fbase;
	}
}

static uintptr_t self_lo, self_hi; /* our executable segment */

static int self_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if ((uintptr_t)data >= lo && (uintptr_t)data < lo + ph->p_memsz) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

bool rt_ip_is_ours(uintptr_t ip)
{
	if (!rt_load_relaxed(&self_hi))
		dl_iterate_phdr(self_cb, (void *)(uintptr_t)rt_ip_is_ours);
	return ip >= self_lo && ip < self_hi;
}

/* Drop the runtime's own frames at the top of a stack, keeping the
 * interposed entry point the program called, and at the bottom (a G's
 * start-up frames): stacks parked through different scheduler paths
 * then compare equal.  Returns the new count; ips moved down. */
int rt_traceback_trim(uintptr_t *ips, int n)
{
	int lo = 0, hi = n;
	while (lo + 1 < hi && rt_ip_is_ours(ips[lo]) && rt_ip_is_ours(ips[lo + 1]))
		lo++;
	while (hi - 1 > lo && rt_ip_is_ours(ips[hi - 1]))
		hi--;
	memmove(ips, ips + lo, (size_t)(hi - lo) * sizeof *ips);
	return hi - lo;
}

/* Print a stack, dropping the runtime's own frames at the top (keeping
 * the interposed entry point the program called) and at the bottom (the
 * G's start-up frames). */

/*
 * Running Gs.  Their registers live on another OS thread, so we ask that
 * thread: set m->tbg/tbreq and send it SIGURG (tgkill); greenrun's SIGURG
 * handler (preempt.c) calls rt_traceback_signal, which unwinds the
 * interrupted context (unw_init_local2 with UNW_INIT_SIGNAL_FRAME: libunwind
 * documents local unwinding as async-signal-safe) into m->tbips.  We wait
 * up to ~20 ms for the answer.
 *
 * "Where safe": a signal makes a blocking system call that is not
 * restartable (pause, sigsuspend, sigwait...) return EINTR, so the M is
 * signalled only when the kernel says its thread is running (state R in
 * /proc/self/task/TID/stat); a thread asleep in the kernel keeps its
 * stack uncaptured.  (A thread that enters such a call between our look
 * and the signal can still see EINTR: a window of microseconds.)
 */
_Static_assert(sizeof(((struct rt_m *)0)->tbips) ==
	       RT_TB_FRAMES * sizeof(uintptr_t), "tbips holds RT_TB_FRAMES");

static uint32_t tbseq; /* guarded by dumplock */

/* Is OS thread tid of this process running or runnable (state R)? */
static bool thread_running(pid_t tid)
{
	char path[64], buf[256];
	rt_snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	long fd = rt_syscall4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	long n = rt_syscall3(SYS_read, fd, buf, sizeof buf - 1);
	rt_syscall1(SYS_close, fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* comm may hold spaces */
	return p && p[1] == ' ' && p[2] == 'R';
}

int rt_traceback_running(struct rt_m *m, struct rt_g *g, uintptr_t *ips)
{
	pid_t tid = m->tid;
	if (!tid || !thread_running(tid))
		return -1;
	uint32_t seq = ++tbseq;
	rt_store(&m->tbg, g);
	rt_store(&m->tbreq, seq);
	rt_sig_kick_tid(tid); /* our marked SIGURG (sig.c) */
	for (int i = 0; i < 200; i++) {
		if (rt_load_acq(&m->tbdone) == seq) {
			int n = m->tbn;
			memcpy(ips, m->tbips, (size_t)n * sizeof *ips);
			return n;
		}
		struct timespec ts = {0, 100000};
		rt_syscall2(SYS_nanosleep, &ts, NULL);
	}
	return 0;
}

void rt_traceback_signal(void *ucv)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g ? g->m : NULL;
	if (!m)
		return;
	uint32_t req = rt_load(&m->tbreq);
	if (req == rt_load_relaxed(&m->tbdone))
		return; /* nothing asked */
	int n = 0;
	if (!g->isg0 && g == rt_load(&m->tbg)) {
		unw_cursor_t c;
		if (unw_init_local2(&c, ucv, UNW_INIT_SIGNAL_FRAME) == 0) {
			for (int d = 0; d < 256 && n < RT_TB_FRAMES; d++) {
				unw_word_t ip = 0;
				if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || !ip)
					break;
				m->tbips[n++] = ip;
				if (unw_step(&c) <= 0)
					break;
			}
		}
	}
	m->tbn = n;
	rt_store_rel(&m->tbdone, req); /* pairs with rt_traceback_running */
}
