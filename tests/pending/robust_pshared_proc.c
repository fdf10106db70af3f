// robust + process-shared mutex in MAP_SHARED memory; a fork()ed child locks it and exits.
// Native: the parent's lock returns EOWNERDEAD at once.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(void)
{
    pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(m);
        _exit(0);               /* dies holding it */
    }
    waitpid(pid, NULL, 0);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 3;
    int rc = pthread_mutex_timedlock(m, &dl);
    printf("parent timedlock after the owner process died: %d (%s); expected EOWNERDEAD (%d)\n", rc, strerror(rc), EOWNERDEAD);
    return rc != EOWNERDEAD;
}
