/* LD_PRELOAD library for the fault-injection tests: makes fdatasync() fail
 * with EIO, the way a dying disk or a lost iSCSI path does, for file
 * descriptors whose path contains "/journal/", once a trigger file exists.
 *
 *   TP_FAIL_FSYNC_TRIGGER=/tmp/x/trigger    required; nothing fails while it is missing
 *   TP_FAIL_FSYNC_MATCH=/journal/           optional; the substring of the fd's path
 *
 *   LD_PRELOAD=libtp_fail_fsync_preload.so TP_FAIL_FSYNC_TRIGGER=... touchpoint run ...
 *   touch /tmp/x/trigger                    # from now on the journal's syncs fail
 *
 * Every injected failure is reported on stderr (the hub's log). All other
 * calls go to the real fdatasync. The settings are read once at load time. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*fdatasync_fn)(int);

static fdatasync_fn real_fdatasync;
static char trigger[4096];
static char match[256] = "/journal/";

__attribute__((constructor)) static void fail_fsync_init(void) {
  const char* t = getenv("TP_FAIL_FSYNC_TRIGGER");
  const char* m = getenv("TP_FAIL_FSYNC_MATCH");
  void* sym = dlsym(RTLD_NEXT, "fdatasync");
  memcpy(&real_fdatasync, &sym, sizeof real_fdatasync);
  if (t != NULL) snprintf(trigger, sizeof trigger, "%s", t);
  if (m != NULL && m[0] != '\0') snprintf(match, sizeof match, "%s", m);
}

static int should_fail(int fd, char* path, size_t size) {
  char link[64];
  ssize_t n;
  if (trigger[0] == '\0' || access(trigger, F_OK) != 0) return 0;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink(link, path, size - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strstr(path, match) != NULL;
}

int fdatasync(int fd) {
  char path[4096];
  if (should_fail(fd, path, sizeof path)) {
    fprintf(stderr, "fail_fsync_preload: fdatasync(%d: %s) -> EIO (trigger %s exists)\n", fd, path, trigger);
    errno = EIO;
    return -1;
  }
  if (real_fdatasync == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real_fdatasync(fd);
}
