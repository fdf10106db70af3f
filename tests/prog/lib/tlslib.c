// tlslib: a shared library with __thread variables, for errno_migrate.c.
//
// Code in a -fPIC shared library reaches its TLS through the dynamic TLS
// model (__tls_get_addr and the thread's DTV), a different path from the
// executable's %fs-relative local-exec accesses.  Each green thread needs its
// own glibc TLS block with a correct DTV for this to work.
__thread int tlslib_counter;            /* .tbss: starts at 0 in every thread */
__thread int tlslib_seed = 0x5eed;      /* .tdata: starts at 0x5eed in every thread */

int tlslib_inc(void) { return ++tlslib_counter; }
int tlslib_get(void) { return tlslib_counter; }
int *tlslib_addr(void) { return &tlslib_counter; }
int tlslib_seed_get(void) { return tlslib_seed; }
void tlslib_seed_set(int v) { tlslib_seed = v; }
