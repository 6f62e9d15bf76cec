/* Progress: a bar when stderr is a terminal; a line a second with
 * --progress otherwise. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

void progress_init(struct progress *p, const char *label, bool force)
{
  p->bar = isatty(STDERR_FILENO);
  p->lines = force && !p->bar;
  p->t0 = p->last = now_seconds();
  p->label = label;
}

int progress_cb(void *opaque, uint64_t done, uint64_t total)
{
  struct progress *p = opaque;
  if (cli_interrupted)
    return 1;
  double now = now_seconds();
  if (!p->bar && !(p->lines && (now - p->last >= 1 || done == total)))
    return 0;
  p->last = now;
  double el = now - p->t0, rate = el > 0 ? done / el : 0;
  double pct = total ? 100.0 * done / total : 100;
  char d[32], t[32], r[32];
  human_size(done, d, sizeof d);
  human_size(total, t, sizeof t);
  human_size((uint64_t)rate, r, sizeof r);
  int eta = rate > 0 && total > done ? (int)((total - done) / rate) : 0;
  if (p->bar) {
    int width = 30, fill = (int)(pct / 100 * width);
    fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %s/%s %s/s ETA %ds \033[K",
            p->label, fill, "==============================", width - fill, "",
            pct, d, t, r, eta);
  } else {
    fprintf(stderr, "%s: %.1f%% %s/%s %s/s ETA %ds\n", p->label, pct, d, t,
            r, eta);
  }
  fflush(stderr);
  return 0;
}

void progress_end(struct progress *p)
{
  if (p->bar)
    fputc('\n', stderr);
}
