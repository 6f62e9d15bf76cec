/* The error state is per thread and keeps context. */
#include <errno.h>
#include <pthread.h>

#include "../../lib/core/error.h"
#include "check.h"

static void *other_thread(void *arg)
{
  (void)arg;
  CHECK(ferry_last_error() == NULL); /* not the main thread's */
  ferry_error(EPIPE, "in thread");
  return NULL;
}

int main(void)
{
  CHECK(ferry_last_error() == NULL && ferry_last_errno() == 0);
  CHECK(ferry_error(ENOSPC, "volume %s at offset %d", "a.img", 4096) ==
        -ENOSPC);
  CHECK(!strcmp(ferry_last_error(), "volume a.img at offset 4096"));
  pthread_t t;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, NULL);
  CHECK(ferry_last_errno() == ENOSPC);
  CHECK(ferry_error_prefix("destination: ") == -ENOSPC);
  CHECK(!strcmp(ferry_last_error(),
                "destination: volume a.img at offset 4096"));
  ferry_error_clear();
  CHECK(ferry_last_error() == NULL);
  return 0;
}
