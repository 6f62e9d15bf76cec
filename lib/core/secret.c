/* Memory for secrets; see secret.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "secret.h"

/* The mapping's size sits before the secret, on the same pages. */
#define HEADER 16

char *secret_dup(const char *s)
{
  if (!s)
    return NULL;
  prctl(PR_SET_DUMPABLE, 0);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t len = strlen(s) + 1, size = (HEADER + len + page - 1) / page * page;
  char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    errno = ENOMEM;
    return NULL;
  }
  madvise(m, size, MADV_DONTDUMP);
  memcpy(m, &size, sizeof size);
  memcpy(m + HEADER, s, len);
  return m + HEADER;
}

void secret_free(char *s)
{
  if (!s)
    return;
  char *m = s - HEADER;
  size_t size;
  memcpy(&size, m, sizeof size);
  explicit_bzero(m, size);
  munmap(m, size);
}
