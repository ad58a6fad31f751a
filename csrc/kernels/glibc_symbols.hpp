// glibc 2.34 moved the threads (and dlsym) into libc with new symbol versions; bind the
// original ones (libpthread's and libdl's, still provided) so that the wheel keeps to
// manylinux2014's glibc 2.17: GLIBC_2.2.5 on x86-64, GLIBC_2.17 (aarch64's first) on aarch64.
// Include it in every file that calls these (directly or through std::mutex).
#pragma once
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_trylock,pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.17");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.17");
__asm__(".symver pthread_mutex_trylock,pthread_mutex_trylock@GLIBC_2.17");
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
#endif
