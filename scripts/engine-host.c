/*
 * kclrun's engine host (kclrun-engine-host, compiled by scripts/fetch-engine.mjs beside the engine): the process an
 * engine worker is when a C compiler was there at set-up. It applies the file-system sandbox to itself (Landlock,
 * the same rules as fn/worker/sandbox.ts), loads the engine, then answers engine calls over stdin/stdout in the
 * frames of fn/worker/protocol.ts, one at a time, until stdin ends. A few MiB instead of a Node runtime per worker.
 *
 *   kclrun-engine-host [--sandbox] [--ro PATH]... [--rw PATH]... --engine LIBKCL
 *   kclrun-engine-host [--sandbox] [--ro PATH]... [--rw PATH]... --exec PROGRAM [ARG]...
 *
 * --sandbox restricts the process to the --ro paths (read, execute) and --rw paths (everything) before anything
 * else; a kernel without Landlock is reported (engine mode: in the ready frame) and the process goes on without.
 * --exec runs PROGRAM in the sandbox (execvp) instead of hosting the engine (kclrun runs `git` this way).
 *
 * Frames: a u32 little-endian length, then the payload. First frame out: a hello (HELLO_* below). Then per call,
 * in: cwd NUL method NUL argument bytes; out: REPLY_ENGINE + the engine's reply bytes (an `ERROR:` reply included),
 * or REPLY_FAILED + a message (the host could not make the call). The engine runs in `cwd`, the host waits in /.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { HELLO_READY = 0, HELLO_SANDBOXED = 1, HELLO_UNSANDBOXED = 2, HELLO_UNAVAILABLE = 3 };
enum { REPLY_ENGINE = 0, REPLY_FAILED = 1 };
/* The largest request accepted (a program's arguments; the parent never sends more). */
#define MAX_REQUEST (256u << 20)

/* Landlock (linux/landlock.h), declared here so that the host builds against old kernel headers too. */
#define SYS_LANDLOCK_CREATE_RULESET 444
#define SYS_LANDLOCK_ADD_RULE 445
#define SYS_LANDLOCK_RESTRICT_SELF 446
#define LANDLOCK_CREATE_RULESET_VERSION 1u
#define LANDLOCK_RULE_PATH_BENEATH 1
#define FS_EXECUTE (1ull << 0)
#define FS_WRITE_FILE (1ull << 1)
#define FS_READ_FILE (1ull << 2)
#define FS_READ_DIR (1ull << 3)
#define FS_REFER (1ull << 13)
#define FS_TRUNCATE (1ull << 14)
#define FS_IOCTL_DEV (1ull << 15)
#define FS_ABI1_ALL ((1ull << 13) - 1)
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

struct ruleset_attr {
  uint64_t handled_access_fs;
};
struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

typedef void *(*svc_new_fn)(uint64_t plugin_agent);
typedef void *(*svc_call_fn)(void *svc, const char *method, const unsigned char *args, size_t args_len, size_t *out_len);
typedef void (*free_fn)(void *ptr, size_t len);
typedef void (*free_string_fn)(void *ptr);

static int in_fd = 0, out_fd = 1;

static int write_all(const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    ssize_t w = write(out_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

/* Reads exactly n bytes: 1 done, 0 end of input before the first byte, -1 end of input or error midway. */
static int read_all(void *buf, size_t n) {
  char *p = buf;
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(in_fd, p + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return done == 0 && r == 0 ? 0 : -1;
    done += (size_t)r;
  }
  return 1;
}

/* Writes one frame: a kind byte, then `n` bytes of `body`. Exits if the parent is gone. */
static void send_frame(unsigned char kind, const void *body, size_t n) {
  if (n > UINT32_MAX - 1) {
    static const char too_big[] = "the engine's reply is larger than a frame can carry (4 GiB)";
    kind = REPLY_FAILED, body = too_big, n = sizeof too_big - 1;
  }
  unsigned char head[5];
  uint32_t len = (uint32_t)n + 1;
  for (int i = 0; i < 4; i++) head[i] = (unsigned char)(len >> (8 * i));
  head[4] = kind;
  if (write_all(head, sizeof head) != 0 || write_all(body, n) != 0) _exit(1);
}

static void send_text(unsigned char kind, const char *text) { send_frame(kind, text, strlen(text)); }

/* --ro / --rw paths, in order. */
struct rules {
  char **paths;
  int *writable;
  int n;
};

/* Adds a path-beneath rule (rights narrowed to file rights on a file); a path that does not exist is left out. */
static int allow(int ruleset, const char *path, uint64_t rights, char *err, size_t err_len) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  struct path_beneath_attr rule = {.allowed_access = S_ISDIR(st.st_mode) ? rights : rights & FS_FILE_RIGHTS};
  rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
  if (rule.parent_fd < 0) {
    snprintf(err, err_len, "landlock open(%s) failed (errno %d)", path, errno);
    return -1;
  }
  long r = syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  int e = errno;
  close(rule.parent_fd);
  if (r != 0) {
    snprintf(err, err_len, "landlock add_rule(%s) failed (errno %d)", path, e);
    return -1;
  }
  return 0;
}

/*
 * Restricts this process (and what it starts) to `rules`. Returns the Landlock ABI (> 0) when applied, 0 when the
 * kernel has none (`err` says why), -1 when Landlock exists but a step failed (`err` says which).
 */
static int apply_sandbox(const struct rules *rules, char *err, size_t err_len) {
  long abi = syscall(SYS_LANDLOCK_CREATE_RULESET, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    snprintf(err, err_len, "the kernel has no Landlock (errno %d)", errno);
    return 0;
  }
  uint64_t handled = FS_ABI1_ALL;
  if (abi >= 2) handled |= FS_REFER;
  if (abi >= 3) handled |= FS_TRUNCATE;
  if (abi >= 5) handled |= FS_IOCTL_DEV;
  struct ruleset_attr attr = {.handled_access_fs = handled};
  int ruleset = (int)syscall(SYS_LANDLOCK_CREATE_RULESET, &attr, sizeof attr, 0);
  if (ruleset < 0) {
    snprintf(err, err_len, "landlock create_ruleset failed (errno %d)", errno);
    return -1;
  }
  int status = (int)abi;
  uint64_t read_only = (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR) & handled;
  for (int i = 0; i < rules->n && status > 0; i++) {
    if (allow(ruleset, rules->paths[i], rules->writable[i] ? handled : read_only, err, err_len) != 0) status = -1;
  }
  if (status > 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    snprintf(err, err_len, "landlock prctl(NO_NEW_PRIVS) failed (errno %d)", errno);
    status = -1;
  }
  if (status > 0 && syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0) {
    snprintf(err, err_len, "landlock restrict_self failed (errno %d)", errno);
    status = -1;
  }
  close(ruleset);
  return status;
}

/* Keeps the frames on their own descriptors: whatever the engine writes to stdout goes to stderr, stdin reads nothing. */
static void take_stdio(void) {
  in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0) _exit(1);
  close(null);
}

/*
 * The stack a program runs on: the engine is called on a thread of this size, as a Node worker calls it on koffi's
 * 2 MiB stack (koffi's sync_stack_size), so a program recurses as deep whichever worker runs it — and unbounded
 * recursion hits the guard (SIGSEGV) after the same depth, not after the main thread's 8 MiB (which the engine takes
 * seconds to fill). The guard below the stack is wide, so that no frame steps over it.
 */
#define ENGINE_STACK_BYTES (2u << 20)
#define ENGINE_GUARD_BYTES (256u << 10)

struct engine_call {
  void *svc;
  svc_call_fn call;
  const char *method;
  const unsigned char *args;
  size_t args_len;
  size_t out_len;
  unsigned char *reply;
};

static void *run_call(void *arg) {
  struct engine_call *c = arg;
  c->reply = c->call(c->svc, c->method, c->args, c->args_len, &c->out_len);
  return NULL;
}

/* Makes one engine call on a thread with the program's stack; exits if no thread can be started. */
static void call_engine(struct engine_call *c) {
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, ENGINE_STACK_BYTES) != 0 ||
      pthread_attr_setguardsize(&attr, ENGINE_GUARD_BYTES) != 0 || pthread_create(&thread, &attr, run_call, c) != 0 ||
      pthread_join(thread, NULL) != 0)
    _exit(1);
  pthread_attr_destroy(&attr);
}

static void serve(void *svc, svc_call_fn call, free_fn kcl_free, free_string_fn free_string) {
  for (;;) {
    unsigned char head[4];
    int got = read_all(head, sizeof head);
    if (got == 0) _exit(0);
    if (got < 0) _exit(1);
    uint32_t len = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
    if (len > MAX_REQUEST) _exit(1);
    char *req = malloc((size_t)len + 1);
    if (!req || read_all(req, len) != 1) _exit(1);
    req[len] = '\0';
    char *cwd = req;
    char *method = memchr(req, '\0', len);
    char *nul2 = method ? memchr(method + 1, '\0', len - (size_t)(method + 1 - req)) : NULL;
    if (!nul2) {
      send_text(REPLY_FAILED, "malformed request frame");
      free(req);
      continue;
    }
    method++;
    const unsigned char *args = (const unsigned char *)nul2 + 1;
    size_t args_len = len - (size_t)(nul2 + 1 - req);
    if (chdir(cwd) != 0) {
      char msg[512];
      snprintf(msg, sizeof msg, "cannot enter the work dir %s: %s", cwd, strerror(errno));
      send_text(REPLY_FAILED, msg);
      free(req);
      continue;
    }
    struct engine_call c = {.svc = svc, .call = call, .method = method, .args = args, .args_len = args_len};
    call_engine(&c);
    size_t out_len = c.out_len;
    unsigned char *reply = c.reply;
    if (chdir("/") != 0) _exit(1);
    if (!reply) {
      char msg[256];
      snprintf(msg, sizeof msg, "ERROR:%s returned nothing", method);
      send_text(REPLY_ENGINE, msg);
    } else {
      /* On a caught panic the engine returns a NUL-terminated string without writing the length. */
      send_frame(REPLY_ENGINE, reply, out_len ? out_len : strlen((const char *)reply));
      if (kcl_free) kcl_free(reply, out_len);
      else free_string(reply);
    }
    free(req);
    /* Give what the program allocated and freed back to the system (glibc keeps freed heap otherwise; the engine uses
       glibc's malloc): between renders a host holds the engine's code pages it has run, not its last program's peak. */
    malloc_trim(0);
  }
}

static void usage(void) {
  fputs("usage: kclrun-engine-host [--sandbox] [--ro PATH]... [--rw PATH]... (--engine LIBKCL | --exec PROGRAM [ARG]...)\n", stderr);
  exit(2);
}

int main(int argc, char **argv) {
  /* Ends with its parent (the controller or CLI), even in the middle of a call that would never return. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  struct rules rules = {calloc((size_t)argc, sizeof(char *)), calloc((size_t)argc, sizeof(int)), 0};
  int sandbox = 0;
  const char *engine = NULL;
  char **exec_argv = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--sandbox")) sandbox = 1;
    else if ((!strcmp(argv[i], "--ro") || !strcmp(argv[i], "--rw")) && i + 1 < argc) {
      rules.writable[rules.n] = argv[i][3] == 'w';
      rules.paths[rules.n++] = argv[++i];
    } else if (!strcmp(argv[i], "--engine") && i + 1 < argc && i + 2 == argc) engine = argv[++i];
    else if (!strcmp(argv[i], "--exec") && i + 1 < argc) {
      exec_argv = &argv[i + 1];
      break;
    } else usage();
  }
  if (!engine && !exec_argv) usage();
  char err[1024] = "";
  int abi = sandbox ? apply_sandbox(&rules, err, sizeof err) : 0;

  if (exec_argv) {
    if (abi < 0) {
      fprintf(stderr, "kclrun-engine-host: %s\n", err);
      return 126;
    }
    execvp(exec_argv[0], exec_argv);
    fprintf(stderr, "kclrun-engine-host: cannot run %s: %s\n", exec_argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
  }

  take_stdio();
  if (abi < 0) {
    send_text(HELLO_UNAVAILABLE, err);
    return 1;
  }
  if (access(engine, F_OK) != 0) {
    /* The words of engineNotFoundMessage (fn/engine/library.ts). */
    snprintf(err, sizeof err, "KCL engine not found at %s: run `npm run engine:fetch` (or set KCL_LIB_PATH to a libkcl.so)", engine);
    send_text(HELLO_UNAVAILABLE, err);
    return 1;
  }
  /* The PyPI build of the engine links CPython symbols it never calls; the stub built beside it satisfies them. */
  char *copy = strdup(engine);
  char stub[4096];
  snprintf(stub, sizeof stub, "%s/libpystub.so", dirname(copy));
  if (access(stub, F_OK) == 0 && !dlopen(stub, RTLD_NOW | RTLD_GLOBAL)) {
    snprintf(err, sizeof err, "cannot load the KCL engine from %s: %s", engine, dlerror());
    send_text(HELLO_UNAVAILABLE, err);
    return 1;
  }
  void *lib = dlopen(engine, RTLD_NOW);
  svc_new_fn svc_new = lib ? (svc_new_fn)dlsym(lib, "kcl_service_new") : NULL;
  svc_call_fn call = lib ? (svc_call_fn)dlsym(lib, "kcl_service_call_with_length") : NULL;
  free_fn kcl_free = lib ? (free_fn)dlsym(lib, "kcl_free") : NULL;
  free_string_fn free_string = lib ? (free_string_fn)dlsym(lib, "kcl_service_free_string") : NULL;
  if (!svc_new || !call || (!kcl_free && !free_string)) {
    snprintf(err, sizeof err, "cannot load the KCL engine from %s: %s", engine, lib ? "its entry points are missing" : dlerror());
    send_text(HELLO_UNAVAILABLE, err);
    return 1;
  }
  void *svc = svc_new(0);
  if (chdir("/") != 0) return 1;
  if (!sandbox) send_frame(HELLO_READY, "", 0);
  else if (abi == 0) send_text(HELLO_UNSANDBOXED, err);
  else {
    unsigned char v[4] = {(unsigned char)abi, 0, 0, 0};
    send_frame(HELLO_SANDBOXED, v, sizeof v);
  }
  serve(svc, call, kcl_free, free_string);
  return 0;
}
