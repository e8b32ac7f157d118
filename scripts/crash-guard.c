/*
 * kclrun's crash guard (libkclguard.so, compiled by scripts/fetch-engine.mjs beside the engine).
 *
 * The CLI runs the KCL engine in its own process; a KCL program can crash it (unbounded recursion overflows the
 * stack of the thread that calls the engine: SIGSEGV). kclrun_guard_call wraps the engine's one entry point: for
 * the length of the call it installs a handler for the fatal signals, on an alternate signal stack of the calling
 * thread (a stack overflow leaves no stack to run a handler on; the engine runs programs on the thread that calls
 * it, checked by the CLI's crash tests), and puts the previous handlers (Node's, V8's) back afterwards.
 *
 * On a crash the handler does only async-signal-safe things: it puts the input registered by kclrun_guard_arm on
 * fd 0 (a memfd), clears close-on-exec on fds 0-2, unblocks signals and execve()s the reporter command registered there (a Node script that writes
 * the failure the user sees, then exits 1). The process keeps its pid, so whoever waits for kclrun (a shell, kpt,
 * kustomize) gets the reporter's exit code. If the exec fails, a short message and exit 1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

typedef void *(*engine_call_fn)(void *svc, const char *method, const unsigned char *args, size_t args_len,
                                size_t *out_len);

static const int GUARDED[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
static const char *const GUARDED_NAMES[] = {"SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE"};
#define N_GUARDED (sizeof GUARDED / sizeof GUARDED[0])

static engine_call_fn engine_call;
/* The reporter: argv[0] is the program, argv[2] is replaced by the signal's name; NULL-terminated. */
static char **report_argv;
static char *report_strings;
/* Bytes the reporter reads on stdin (kclrun fn's input), copied at arm time. */
static unsigned char *report_input;
static size_t report_input_len;
static char alt_stack[1 << 16];

/* Finds the engine's entry point in `engine_path` (already loaded by the caller). 0 on success. */
int kclrun_guard_init(const char *engine_path) {
  void *h = dlopen(engine_path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) return -1;
  engine_call = (engine_call_fn)dlsym(h, "kcl_service_call_with_length");
  return engine_call ? 0 : -2;
}

/*
 * Registers the reporter: `strings` holds `count` NUL-terminated arguments back to back (the program first, argv[2]
 * a placeholder for the signal), `input` the bytes to feed it on stdin. Replaces an earlier registration.
 */
int kclrun_guard_arm(const unsigned char *strings, size_t strings_len, int count, const unsigned char *input,
                     size_t input_len) {
  char *s = malloc(strings_len);
  char **argv = calloc((size_t)count + 1, sizeof *argv);
  unsigned char *in = input_len ? malloc(input_len) : NULL;
  if (!s || !argv || (input_len && !in) || count < 3) {
    free(s), free(argv), free(in);
    return -1;
  }
  memcpy(s, strings, strings_len);
  if (input_len) memcpy(in, input, input_len);
  char *p = s;
  for (int i = 0; i < count; i++) {
    argv[i] = p;
    p += strlen(p) + 1;
  }
  free(report_argv), free(report_strings), free(report_input);
  report_argv = argv, report_strings = s, report_input = in, report_input_len = input_len;
  return 0;
}

static void say(const char *s) {
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w, n -= (size_t)w;
  }
}

static void on_crash(int sig, siginfo_t *info, void *ctx) {
  (void)info, (void)ctx;
  const char *name = "a fatal signal";
  for (size_t i = 0; i < N_GUARDED; i++)
    if (GUARDED[i] == sig) name = GUARDED_NAMES[i];
  if (report_argv) {
    report_argv[2] = (char *)name;
    if (report_input_len) {
      int fd = (int)syscall(SYS_memfd_create, "kclrun-input", 0);
      size_t done = 0;
      while (fd >= 0 && done < report_input_len) {
        ssize_t w = write(fd, report_input + done, report_input_len - done);
        if (w <= 0) break;
        done += (size_t)w;
      }
      if (fd >= 0 && done == report_input_len && lseek(fd, 0, SEEK_SET) == 0) dup2(fd, 0);
      if (fd > 0) close(fd);
    }
    /* Node marks its stdio close-on-exec: the reporter writes to the same stdout and stderr. */
    for (int fd = 0; fd <= 2; fd++) {
      int flags = fcntl(fd, F_GETFD);
      if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(report_argv[0], report_argv, environ);
  }
  say("kclrun: the KCL engine crashed (");
  say(name);
  say(") while running the program; the usual cause is unbounded recursion\n");
  _exit(1);
}

/* kcl_service_call_with_length, guarded. Calls are serialised by the caller (the engine is not thread-safe). */
void *kclrun_guard_call(void *svc, const char *method, const unsigned char *args, size_t args_len, size_t *out_len) {
  stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0}, old_ss;
  int have_old_ss = sigaltstack(&ss, &old_ss) == 0;
  struct sigaction sa, old[N_GUARDED];
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_crash;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_GUARDED; i++) sigaddset(&sa.sa_mask, GUARDED[i]);
  for (size_t i = 0; i < N_GUARDED; i++) sigaction(GUARDED[i], &sa, &old[i]);
  void *reply = engine_call(svc, method, args, args_len, out_len);
  for (size_t i = 0; i < N_GUARDED; i++) sigaction(GUARDED[i], &old[i], NULL);
  if (have_old_ss) {
    if (old_ss.ss_flags & SS_DISABLE) {
      ss.ss_flags = SS_DISABLE;
      sigaltstack(&ss, NULL);
    } else {
      sigaltstack(&old_ss, NULL);
    }
  }
  return reply;
}
