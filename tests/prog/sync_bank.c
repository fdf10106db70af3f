// sync_bank: 10,000 threads moving money between 100 mutex-protected
// accounts, with condition-variable waits for funds.
//
// Why: a large mixed load on greenrun's parked mutexes and condvars:
// ordered double locking (two mutexes held at once), waiters sleeping in
// pthread_cond_wait while others deposit and broadcast, and thousands of
// green threads contending.  A lost wake-up leaves a waiter stuck (its
// join never returns); broken exclusion breaks conservation of money.
//
// Accounts: 100, each { mutex, condvar, balance, reserved = 0 }; even
// accounts start with balance 0, odd ones with 2,000 (total 100,000).
// Threads (10,000, created by main in this order):
//   - 1,000 withdrawers (first, so that many must wait): account i % 100;
//     lock it, then
//     `while (balance < 7) pthread_cond_wait`, take 7 out of the bank;
//   - 1,000 depositors (one after every 8 transferrers): account k % 100
//     for the k-th; put 7 into it and broadcast; so each account gets
//     exactly as many deposits (10) as withdrawals;
//   - 8,000 transferrers: 5 transfers each (40,000 in all) between two
//     pseudo-random accounts a != b of 1..20 units, locking the lower-numbered
//     account first; a transfer is skipped when it would leave a below 0
//     or below its `reserved` (see below); a successful transfer broadcasts
//     b's condvar (b may have waiters).
// Termination (no thread can be stuck once all deposits are made): deposits
// add 7 to both balance and reserved, withdrawals take 7 from both, and a
// transfer never takes an account below max(reserved, 0); so
// balance >= reserved always, and once all deposits are in, reserved =
// 7 x (withdrawers still to come), so every waiter's predicate holds.
// Checks: every join returns (no stuck thread; a SIGALRM watchdog after
// 100 s reports the counts instead of hanging); total of balances exactly
// 100,000 at the end (= initial, deposits == withdrawals: 7,000 each);
// no balance negative; every reserved back to 0; withdrawals 1,000,
// deposits 1,000, transfers done + skipped exactly 40,000 and at least one
// done; an atomic in-critical-section flag per account never sees two
// holders.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_NAME "sync_bank"
#include "sync_util.h"

#define NACC 100
#define NTHREADS 10000
#define NWITHDRAW 1000
#define NDEPOSIT 1000
#define TRANSFERS_EACH 5
#define AMOUNT 7
#define INITIAL 1000

struct account {
    pthread_mutex_t m;
    pthread_cond_t c;
    long balance;
    long reserved;          /* deposits not yet withdrawn (may go < 0) */
    atomic_int holders;     /* threads inside m: must be 0 or 1 */
};

static struct account acc[NACC];
static atomic_int withdrawals, deposits, transfers_done, transfers_skipped, waits, overlap, joined;

static void on_alarm(int sig)
{
    (void)sig;
    char buf[300];
    int n = snprintf(buf, sizeof buf,
                     "FAIL sync_bank: watchdog: not finished after 100 s: %d joined, withdrawals %d/%d, "
                     "deposits %d/%d, transfers done %d + skipped %d of %d, cond waits %d\n",
                     atomic_load(&joined), atomic_load(&withdrawals), NWITHDRAW, atomic_load(&deposits), NDEPOSIT,
                     atomic_load(&transfers_done), atomic_load(&transfers_skipped),
                     (NTHREADS - NWITHDRAW - NDEPOSIT) * TRANSFERS_EACH, atomic_load(&waits));
    (void)!write(2, buf, n);
    _exit(1);
}

static void lock(struct account *a)
{
    int rc = pthread_mutex_lock(&a->m);
    if (rc)
        die("pthread_mutex_lock returned %d", rc);
    if (atomic_fetch_add(&a->holders, 1) != 0)
        atomic_fetch_add(&overlap, 1);
}

static void unlock(struct account *a)
{
    atomic_fetch_sub(&a->holders, 1);
    int rc = pthread_mutex_unlock(&a->m);
    if (rc)
        die("pthread_mutex_unlock returned %d", rc);
}

static void withdraw(int id)
{
    struct account *a = &acc[id % NACC];
    lock(a);
    while (a->balance < AMOUNT) {
        atomic_fetch_add(&waits, 1);
        atomic_fetch_sub(&a->holders, 1);
        int rc = pthread_cond_wait(&a->c, &a->m);
        if (rc)
            die("pthread_cond_wait returned %d", rc);
        if (atomic_fetch_add(&a->holders, 1) != 0)
            atomic_fetch_add(&overlap, 1);
    }
    a->balance -= AMOUNT;
    a->reserved -= AMOUNT;
    unlock(a);
    atomic_fetch_add(&withdrawals, 1);
}

static void deposit(int id)
{
    struct account *a = &acc[id % NACC];
    lock(a);
    a->balance += AMOUNT;
    a->reserved += AMOUNT;
    int rc = pthread_cond_broadcast(&a->c);
    if (rc)
        die("pthread_cond_broadcast returned %d", rc);
    unlock(a);
    atomic_fetch_add(&deposits, 1);
}

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void transfers(int id)
{
    uint32_t seed = 2654435761u * (uint32_t)(id + 1);
    for (int k = 0; k < TRANSFERS_EACH; k++) {
        int from = rnd(&seed) % NACC, to = rnd(&seed) % NACC;
        if (from == to)
            to = (to + 1) % NACC;
        long amt = 1 + rnd(&seed) % 20;
        struct account *lo = &acc[from < to ? from : to], *hi = &acc[from < to ? to : from];
        lock(lo);
        lock(hi);
        struct account *a = &acc[from], *b = &acc[to];
        long floor = a->reserved > 0 ? a->reserved : 0;
        int ok = a->balance - amt >= floor;
        if (ok) {
            a->balance -= amt;
            b->balance += amt;
            pthread_cond_broadcast(&b->c);
        }
        unlock(hi);
        unlock(lo);
        atomic_fetch_add(ok ? &transfers_done : &transfers_skipped, 1);
        if ((k & 1) == 0)
            sched_yield();
    }
}

static void *customer(void *arg)
{
    int i = (int)(intptr_t)arg;
    /* withdrawers are created first (so that many must wait), then
     * transferrers with a depositor after every 8 of them */
    if (i < NWITHDRAW)
        withdraw(i);
    else if ((i - NWITHDRAW) % 9 == 8)
        deposit((i - NWITHDRAW) / 9);
    else
        transfers(i);
    return NULL;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(100);
    for (int i = 0; i < NACC; i++) {
        if (pthread_mutex_init(&acc[i].m, NULL) || pthread_cond_init(&acc[i].c, NULL))
            die("init of account %d failed", i);
        acc[i].balance = INITIAL;
    }
    /* Even accounts start empty (odd ones with twice as much) so that
     * their withdrawers must wait. */
    for (int i = 0; i < NACC; i += 2) {
        acc[i + 1].balance += acc[i].balance;
        acc[i].balance = 0;
    }

    static pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_create(&t[i], NULL, customer, (void *)(intptr_t)i);
        if (rc)
            die("pthread_create #%d: %s", i, strerror(rc));
    }
    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_join(t[i], NULL);
        if (rc)
            die("pthread_join #%d: %s", i, strerror(rc));
        atomic_fetch_add(&joined, 1);
    }
    alarm(0);

    long total = 0;
    for (int i = 0; i < NACC; i++) {
        if (acc[i].balance < 0)
            die("account %d: negative balance %ld", i, acc[i].balance);
        if (acc[i].reserved != 0)
            die("account %d: reserved %ld at the end, expected 0", i, acc[i].reserved);
        total += acc[i].balance;
        if (pthread_mutex_destroy(&acc[i].m) || pthread_cond_destroy(&acc[i].c))
            die("destroy of account %d failed", i);
    }
    int ntransfers = (NTHREADS - NWITHDRAW - NDEPOSIT) * TRANSFERS_EACH;
    if (atomic_load(&overlap))
        die("%d times two threads were inside one account's mutex", atomic_load(&overlap));
    if (total != (long)NACC * INITIAL)
        die("money not conserved: total %ld, expected %ld", total, (long)NACC * INITIAL);
    if (atomic_load(&withdrawals) != NWITHDRAW || atomic_load(&deposits) != NDEPOSIT)
        die("withdrawals %d, deposits %d; expected %d and %d", atomic_load(&withdrawals), atomic_load(&deposits),
            NWITHDRAW, NDEPOSIT);
    if (atomic_load(&transfers_done) + atomic_load(&transfers_skipped) != ntransfers ||
        atomic_load(&transfers_done) == 0)
        die("transfers: %d done + %d skipped, expected %d in all and some done", atomic_load(&transfers_done),
            atomic_load(&transfers_skipped), ntransfers);
    printf("sync_bank: OK: %d threads, %d transfers done, %d skipped, %d condvar waits\n", NTHREADS,
           atomic_load(&transfers_done), atomic_load(&transfers_skipped), atomic_load(&waits));
    return 0;
}
