/*
 * throw.c - fatal errors and async-signal-safe printing.
 *
 * rt_printf formats with its own small formatter (%s %d %u %ld %lu %lx %zu
 * %p %x %c %%) into a stack buffer and write(2)s it to stderr with a raw
 * system call, so it is safe in signal handlers, on g0, and while runtime
 * locks are held; it never touches errno.
 * rt_throw prints "greenrun: fatal error: MSG" naming the current thread
 * and M, dumps every thread (dump.c), then aborts (SIGABRT).  As Go's throw (HACKING.md): for broken
 * invariants, never for program errors.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "diag.h"
#include "internal.h"
#include "sys.h"

void rt_describe_current(char *buf, size_t len);

struct obuf {
	char b[1024];
	size_t n;
};

static void put(struct obuf *o, char c)
{
	if (o->n < sizeof o->b)
		o->b[o->n++] = c;
}

static void putu(struct obuf *o, unsigned long long v, unsigned base)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		put(o, tmp[--i]);
}

static void vfmt(struct obuf *o, const char *f, va_list ap)
{
	for (; *f; f++) {
		if (*f != '%') {
			put(o, *f);
			continue;
		}
		f++;
		int l = 0;
		while (*f == 'l' || *f == 'z') {
			l = 1;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(o, *s);
			break;
		}
		case 'd': {
			long long v = l ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0) {
				put(o, '-');
				v = -v;
			}
			putu(o, (unsigned long long)v, 10);
			break;
		}
		case 'u':
			putu(o, l ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10);
			break;
		case 'x':
			putu(o, l ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16);
			break;
		case 'p':
			put(o, '0');
			put(o, 'x');
			putu(o, (uintptr_t)va_arg(ap, void *), 16);
			break;
		case 'c':
			put(o, (char)va_arg(ap, int));
			break;
		case '%':
			put(o, '%');
			break;
		default:
			put(o, '?');
		}
	}
}

void rt_printf(const char *fmt, ...)
{
	struct obuf o;
	o.n = 0;
	va_list ap;
	va_start(ap, fmt);
	vfmt(&o, fmt, ap);
	va_end(ap);
	size_t off = 0;
	while (off < o.n) {
		long r = rt_syscall3(SYS_write, 2, o.b + off, o.n - off);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
}

void rt_throw(const char *msg)
{
	char who[128];
	rt_describe_current(who, sizeof who);
	rt_printf("greenrun: fatal error: %s\ngreenrun: in %s\n", msg, who);
	rt_dump(2, DUMP_FATAL, msg); /* every G's stack (dump.c) */
	rt_trace_finish();
	/* abort() may run atexit-free paths only; it is what we want. */
	signal(SIGABRT, SIG_DFL);
	abort();
}

/* snprintf with rt_printf's formatter; async-signal-safe.  Always
 * NUL-terminates (len > 0); returns the length written. */
int rt_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct obuf o;
	o.n = 0;
	va_list ap;
	va_start(ap, fmt);
	vfmt(&o, fmt, ap);
	va_end(ap);
	size_t n = o.n < len - 1 ? o.n : len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = o.b[i];
	buf[n] = 0;
	return (int)n;
}
