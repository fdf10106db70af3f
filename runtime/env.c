/*
 * env.c - GREENRUN_* settings and the CPU count.
 *
 * GREENRUN_PROCS: number of Ps (1..1024).  Default: the CPUs this process
 * may run on (sched_getaffinity), lowered to the cgroup v2 cpu.max quota
 * (ceil(quota/period)) when one is set, as Go 1.25's GOMAXPROCS does.
 * GREENRUN_STACK: default usable stack per thread, bytes with an optional
 * K/M/G suffix.  Invalid values print a warning and fall back to defaults.
 * Read once by rt_init (single-threaded).
 */
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cgroup_cpus(void)
{
	char path[600], line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return 0;
	path[0] = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max",
				 line + 3);
			break;
		}
	}
	fclose(f);
	if (!path[0])
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	char quota[64];
	long period = 0;
	int n = fscanf(f, "%63s %ld", quota, &period);
	fclose(f);
	if (n != 2 || strcmp(quota, "max") == 0 || period <= 0)
		return 0;
	long q = atol(quota);
	if (q <= 0)
		return 0;
	return (int)((q + period - 1) / period);
}

int rt_ncpu(void)
{
	cpu_set_t set;
	int n = 1;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	int c = cgroup_cpus();
	if (c > 0 && c < n)
		n = c;
	return n < 1 ? 1 : n;
}

int rt_env_procs(void)
{
	return (int)rt_env_int("GREENRUN_PROCS", rt_ncpu(), 1, 1024);
}

/* Parse "N[KMG]" (case-insensitive); 0 on error. */
size_t rt_parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return 0;
	switch (tolower((unsigned char)*end)) {
	case 'k': v <<= 10; end++; break;
	case 'm': v <<= 20; end++; break;
	case 'g': v <<= 30; end++; break;
	}
	if (tolower((unsigned char)*end) == 'b' || tolower((unsigned char)*end) == 'i')
		end++;
	return *end ? 0 : (size_t)v;
}

size_t rt_env_size(const char *name, size_t def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	size_t v = rt_parse_size(s);
	if (v == 0) {
		rt_printf("greenrun: ignoring %s=%s (want a size like 256K)\n",
			  name, s);
		return def;
	}
	return v;
}

/* Integer setting in [min, max]; a bad value warns and gives def. */
long rt_env_int(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < min || v > max) {
		rt_printf("greenrun: ignoring %s=%s (want %ld..%ld)\n", name, s,
			  min, max);
		return def;
	}
	return v;
}
