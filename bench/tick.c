/*
 * tick.c - ticker lateness beside CPU hogs (the preemption benchmark).
 * 4 threads spin in pure computation (no calls) while main wakes every
 * 10 ms for 200 ticks; prints the lateness percentiles and each spinner's
 * work count (fair shares = similar counts).  Natively the kernel
 * time-slices; under greenrun only asynchronous preemption lets the
 * ticker and all spinners run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
static atomic_int stop; static volatile long work[4];
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec/1e9;}
static void *spinner(void *a){ long i=(long)a; double x=1.0; while(!atomic_load_explicit(&stop, memory_order_relaxed)){ for(int k=0;k<1000;k++) x=x*1.0000001+0.5; work[i]++; } return (void*)(long)x; }
static int cmp(const void*a,const void*b){double d=*(double*)a-*(double*)b; return d<0?-1:d>0;}
int main(){ pthread_t t[4]; for(long i=0;i<4;i++) pthread_create(&t[i],0,spinner,(void*)i);
 double late[200]; double next=now()+0.01;
 for(int i=0;i<200;i++){ struct timespec ts; double d=next-now(); if(d>0){ts.tv_sec=0; ts.tv_nsec=(long)(d*1e9); nanosleep(&ts,0);} late[i]=(now()-next)*1000; next+=0.01; }
 atomic_store(&stop,1); for(int i=0;i<4;i++) pthread_join(t[i],0);
 qsort(late,200,sizeof(double),cmp); printf("tick_p50_ms=%.2f\ntick_p99_ms=%.2f\ntick_max_ms=%.2f\nwork=%ld,%ld,%ld,%ld\n", late[100], late[197], late[199], work[0],work[1],work[2],work[3]); }
