// diag_trace: GREENRUN_TRACE=FILE writes a valid Chrome trace-event JSON
// array with the documented events and fields.
//
// Why: the trace is only useful if Perfetto / chrome://tracing and
// `greenrun trace --html` can load it (issue #5, acceptance 3).  The
// program re-executes itself (under greenrun too: LD_PRELOAD is inherited)
// with GREENRUN_TRACE set for the child only; the child runs a small mixed
// workload (threads contending on a mutex, a condvar ping-pong, a pipe
// read/write pair, nanosleep, fsync on a regular file) and exits; the
// parent then parses the file with a strict JSON parser (below) and checks:
//   - it is one JSON array of objects, each with "ph", "pid" and, except
//     process metadata, "tid" and (non-metadata) "ts";
//   - "X" events have "dur" and "args"; run spans (cat "run") name
//     "G<id> <name>" and have args g, m, end, reason;
//   - present: P0 lane metadata, run spans ending in block and exit with
//     reasons mutex, cond, IO wait and sleep, "create" and "unblock"
//     instants, a "syscall" span and a "netpoll" span;
//   - `build/greenrun trace FILE --html OUT` writes the timeline page with
//     the trace embedded (no placeholder left).
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "diag_trace"
#include "sync_util.h"

/* ---- the child's workload -------------------------------------------- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;  /* contended */
static pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER; /* ping-pong */
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, counter, pfd[2];

static void *contend(void *arg)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        if (i % 50 == 0)
            sched_yield();
        pthread_mutex_unlock(&mu);
    }
    return arg;
}

static void *pingpong(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&pmu);
        while (turn != me)
            pthread_cond_wait(&cv, &pmu);
        turn = !me;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&pmu);
    }
    return arg;
}

static void *pipe_reader(void *arg)
{
    char b;
    for (int i = 0; i < 20; i++)
        if (read(pfd[0], &b, 1) != 1)
            die("pipe read");
    return arg;
}

static int child(void)
{
    pthread_t t[20];
    if (pipe(pfd))
        die("pipe");
    /* main holds mu through its 20 sleeps: the contenders block on it */
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 16; i++)
        pthread_create(&t[i], NULL, contend, NULL);
    pthread_create(&t[16], NULL, pingpong, (void *)0L);
    pthread_create(&t[17], NULL, pingpong, (void *)1L);
    pthread_create(&t[18], NULL, pipe_reader, NULL);
    for (int i = 0; i < 20; i++) {
        ms_sleep(1); /* a sleep (the scenario), then a byte */
        if (write(pfd[1], "x", 1) != 1)
            die("pipe write");
    }
    pthread_mutex_unlock(&mu);
    char path[] = "/tmp/diag_trace.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "data", 4) != 4 || fsync(fd) != 0)
        die("file");
    close(fd);
    unlink(path);
    for (int i = 0; i < 19; i++)
        pthread_join(t[i], NULL);
    return counter == 16 * 200 ? 0 : 1;
}

/* ---- a strict JSON parser, just enough to check the trace ------------ */
static const char *p;
static int nevents, have[32];
enum { H_P0, H_BLOCK, H_EXIT, H_MUTEX, H_COND, H_IO, H_SLEEP, H_CREATE,
       H_UNBLOCK, H_SYSCALL, H_NETPOLL, H_RUNNAME, H_NKINDS };
static const char *hname[] = {"P0 lane", "block end", "exit end", "mutex",
    "cond", "IO wait", "sleep", "create", "unblock", "syscall", "netpoll",
    "G<id> name"};

static void ws(void) { while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++; }
static void value(char *out, size_t outlen);

static void string(char *out, size_t outlen)
{
    size_t k = 0;
    if (*p++ != '"')
        die("expected a string at ...%.20s", p - 1);
    while (*p != '"') {
        if (!*p || (unsigned char)*p < 0x20)
            die("bad string");
        if (*p == '\\') {
            p++;
            if (!strchr("\"\\/bfnrtu", *p))
                die("bad escape");
            if (*p == 'u')
                for (int i = 0; i < 4; i++)
                    if (!isxdigit((unsigned char)*++p))
                        die("bad \\u escape");
        }
        if (out && k + 1 < outlen)
            out[k++] = *p;
        p++;
    }
    p++;
    if (out)
        out[k] = 0;
}

static void number(char *out, size_t outlen)
{
    const char *s = p;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        die("bad number at ...%.20s", s);
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            die("bad fraction");
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (out)
        snprintf(out, outlen, "%.*s", (int)(p - s), s);
}

/* An object; when top is set, check it as a trace event. */
static void object(int top)
{
    char key[64], val[128], ph[8] = "", name[128] = "", cat[32] = "";
    int has_ts = 0, has_dur = 0, has_pid = 0, has_tid = 0, has_args = 0;
    char args[512] = "";
    p++;
    ws();
    if (*p == '}') { p++; return; }
    for (;;) {
        ws();
        string(key, sizeof key);
        ws();
        if (*p++ != ':')
            die("expected ':'");
        ws();
        if (top && !strcmp(key, "args")) {
            const char *s = p;
            value(NULL, 0);
            snprintf(args, sizeof args, "%.*s", (int)(p - s), s);
            has_args = 1;
        } else {
            value(val, sizeof val);
            if (!strcmp(key, "ph")) snprintf(ph, sizeof ph, "%s", val);
            if (!strcmp(key, "name")) snprintf(name, sizeof name, "%s", val);
            if (!strcmp(key, "cat")) snprintf(cat, sizeof cat, "%s", val);
            has_ts |= !strcmp(key, "ts");
            has_dur |= !strcmp(key, "dur");
            has_pid |= !strcmp(key, "pid");
            has_tid |= !strcmp(key, "tid");
        }
        ws();
        if (*p == ',') { p++; continue; }
        if (*p++ != '}')
            die("expected '}'");
        break;
    }
    if (!top)
        return;
    nevents++;
    if (!ph[0] || !has_pid)
        die("event %d without ph/pid", nevents);
    if (strcmp(name, "process_name") && !has_tid)
        die("event %d (%s) without tid", nevents, name);
    if (strcmp(ph, "M") && !has_ts)
        die("event %d (%s) without ts", nevents, name);
    if (!strcmp(ph, "X") && (!has_dur || !has_args))
        die("X event %d (%s) without dur/args", nevents, name);
    if (!strcmp(ph, "M") && strstr(args, "\"P0\""))
        have[H_P0] = 1;
    if (!strcmp(cat, "run")) {
        if (name[0] != 'G' || !isdigit((unsigned char)name[1]) || !strchr(name, ' '))
            die("run span named '%s'", name);
        have[H_RUNNAME] = 1;
        if (!strstr(args, "\"g\":") || !strstr(args, "\"m\":") ||
            !strstr(args, "\"end\":") || !strstr(args, "\"reason\":"))
            die("run span args %s", args);
        have[H_BLOCK] |= !!strstr(args, "\"end\":\"block\"");
        have[H_EXIT] |= !!strstr(args, "\"end\":\"exit\"");
        have[H_MUTEX] |= !!strstr(args, "\"reason\":\"mutex\"");
        have[H_COND] |= !!strstr(args, "\"reason\":\"cond\"");
        have[H_IO] |= !!strstr(args, "\"reason\":\"IO wait\"");
        have[H_SLEEP] |= !!strstr(args, "\"reason\":\"sleep\"");
    }
    have[H_CREATE] |= !strcmp(name, "create") && strstr(args, "\"parent\":");
    have[H_UNBLOCK] |= !strcmp(name, "unblock") && strstr(args, "\"by\":");
    have[H_SYSCALL] |= !strcmp(cat, "syscall");
    have[H_NETPOLL] |= !strcmp(cat, "netpoll");
}

static void array(int top)
{
    p++;
    ws();
    if (*p == ']') { p++; return; }
    for (;;) {
        ws();
        if (top) {
            if (*p != '{')
                die("array element is not an object");
            object(1);
        } else {
            value(NULL, 0);
        }
        ws();
        if (*p == ',') { p++; continue; }
        if (*p++ != ']')
            die("expected ']' at ...%.20s", p - 1);
        return;
    }
}

static void value(char *out, size_t outlen)
{
    if (*p == '{') object(0);
    else if (*p == '[') array(0);
    else if (*p == '"') string(out, outlen);
    else if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4)) p += 4;
    else if (!strncmp(p, "false", 5)) p += 5;
    else number(out, outlen);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child"))
        return child();
    const char *path = "build/tests/diag_trace.json";
    unlink(path);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        setenv("GREENRUN_TRACE", path, 1);
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        die("child failed: status %#x", st);
    FILE *f = fopen(path, "r");
    if (!f)
        die("no trace file %s", path);
    static char buf[64 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    p = buf;
    ws();
    if (*p != '[')
        die("the trace is not a JSON array");
    array(1);
    ws();
    if (*p)
        die("garbage after the array: %.20s", p);
    for (int i = 0; i < H_NKINDS; i++)
        if (!have[i])
            die("no %s event in %d events", hname[i], nevents);
    printf("trace: %d events, %zu bytes, all kinds present\n", nevents, n);

    /* the HTML timeline: one page with the trace inside, no placeholder */
    const char *html = "build/tests/diag_trace.html";
    unlink(html);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "build/greenrun trace %s --html %s", path, html);
    if (system(cmd) != 0)
        die("'%s' failed", cmd);
    f = fopen(html, "r");
    if (!f)
        die("no %s", html);
    static char page[72 << 20];
    size_t m = fread(page, 1, sizeof page - 1, f);
    fclose(f);
    page[m] = 0;
    if (m < n || strncmp(page, "<!DOCTYPE html>", 15) || strstr(page, "@TRACE@") ||
        !strstr(page, "\"name\":\"thread_name\"") || !strstr(page, "<canvas"))
        die("%s is not the timeline page with the trace (%zu bytes)", html, m);
    printf("html: %zu bytes\n", m);
    return 0;
}
