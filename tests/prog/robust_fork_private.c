// robust_fork_private: a thread holding a robust (not process-shared)
// mutex in MAP_SHARED memory forks; in the child that same thread ends
// (the child's only thread: the process exits 0).  The child never owned
// the mutex, so its ending must leave it alone: the parent's thread
// unlock -> 0, then trylock -> 0 (not EOWNERDEAD), unlock -> 0.
//
// Why: greenrun keeps the robust mutexes a thread holds on a list of the
// thread's own; the forked child's copy of the forking thread kept the
// parent's entries, and ending it marked the parent's mutex "owner died"
// and unlocked it (parent unlock: EPERM, next lock: EOWNERDEAD).  glibc
// empties the robust list of a forked child; so must we.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define _GNU_SOURCE
#define TEST_NAME "robust_fork_private"
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync_util.h"

static pthread_mutex_t *m;

static void *holder(void *arg)
{
    EXPECT_RC(pthread_mutex_lock(m), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        return NULL; /* the child's only thread ends: exit status 0 */
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child: status %#x, expected a normal exit 0", st);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_trylock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    return (void *)1;
}

int main(void)
{
    m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    pthread_mutexattr_t a;
    EXPECT_RC(pthread_mutexattr_init(&a), 0);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    EXPECT_RC(pthread_mutex_init(m, &a), 0);
    pthread_t t;
    void *ret;
    EXPECT_RC(pthread_create(&t, NULL, holder, NULL), 0);
    EXPECT_RC(pthread_join(t, &ret), 0);
    if (ret != (void *)1)
        die("holder thread did not finish its checks");
    printf("robust_fork_private: OK\n");
    return 0;
}
