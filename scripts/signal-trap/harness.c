/*
 * Checks the signal trap's machine code outside any runtime (used for aarch64, under qemu-user):
 *   aarch64-linux-gnu-as -o t.o aarch64.s && aarch64-linux-gnu-objcopy -O binary -j .text t.o t.bin
 *   aarch64-linux-gnu-gcc -static -o harness harness.c && qemu-aarch64-static ./harness t.bin [fault]
 * (natively for x86_64.s with as/objcopy/gcc). Expected: every signal but SEGV (qemu keeps that
 * one) listed as "external", USR1 chained to the previous handler, USR2 ignored, nothing in the
 * pipe for our own signals, and with "fault" a death by SIGSEGV (exit 139) instead of a loop.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
static volatile int chained = 0;
static void oldh(int s, siginfo_t *i, void *c) { chained = s; }
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb"); unsigned char buf[70000]; size_t n = fread(buf, 1, sizeof buf, f);
  unsigned char *base = mmap(0, 131072, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  int fds[2]; pipe2(fds, O_CLOEXEC); fcntl(fds[1], F_SETFL, O_NONBLOCK);
  memcpy(base, buf, 0x100);
  *(int *)(base + 65536) = fds[1];
  unsigned long *tab = (unsigned long *)(base + 65536 + 8);
  tab[SIGUSR1] = (unsigned long)oldh; /* chain target */
  tab[SIGUSR2] = 1; /* ignore */
  tab[SIGSEGV] = 0; /* default */
  mprotect(base, 65536, PROT_READ|PROT_EXEC);
  struct sigaction sa = {0}; sa.sa_sigaction = (void *)base; sa.sa_flags = SA_SIGINFO|SA_RESTART|SA_ONSTACK;
  int sigs[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGPWR, SIGSTKFLT, SIGSYS, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV};
  for (int i = 0; i < 12; i++) sigaction(sigs[i], &sa, 0);
  pid_t c = fork();
  if (c == 0) { pid_t pp = getppid(); for (int i = 0; i < 12; i++) { kill(pp, sigs[i]); usleep(20000); } _exit(0); }
  waitpid(c, 0, 0);
  usleep(300000); fcntl(fds[0], F_SETFL, O_NONBLOCK); unsigned char got[64]; int k = read(fds[0], got, 64);
  printf("external:"); for (int i = 0; i < k; i++) printf(" %d", got[i]); printf("\n");
  raise(SIGUSR1); printf("self USR1 chained to old: %d\n", chained);
  raise(SIGUSR2); printf("self USR2 ignored, alive\n");
  fcntl(fds[0], F_SETFL, O_NONBLOCK); k = read(fds[0], got, 64); printf("pipe after self-sent: %d\n", k);
  fflush(stdout);
  if (argc > 2) { volatile int *p = (int *)8; printf("faulting\n"); fflush(stdout); *p = 1; printf("survived fault?!\n"); }
  return 0;
}
