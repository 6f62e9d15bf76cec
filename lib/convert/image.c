/* A guest's conversion made all or nothing on its image (convert.h):
 * an overlay is converted, then committed into the image. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/run.h"
#include "../core/statefile.h"
#include "convert.h"

static int commit(const char *overlay, const char *done, char **report)
{
  char *argv[] = { "qemu-img", "commit", "-q", "-f", "qcow2", "-d",
                   (char *)overlay, NULL };
  int r = run_command(argv, NULL);
  if (r < 0)
    return ferry_error_prefix("committing the converted guest: ");
  if (report && !*report && statefile_read(done, 1 << 20, report) < 0)
    ferry_error_clear(); /* the report only */
  unlink(overlay);
  return statefile_remove(done, 1);
}

/* The conversion into an overlay, then its commit. */
static int convert(const struct image_conversion *c,
                   const struct guest_convert_opts *opts, char **out)
{
  int r;
  unlink(c->overlay); /* an interrupted conversion: from the start */
  char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b",
                     (char *)c->image, "-F", (char *)c->format,
                     (char *)c->overlay, NULL };
  if ((r = run_command(create, NULL)) < 0)
    return ferry_error_prefix("disk %s: ", c->device);
  r = guest_convert(c->overlay, "qcow2", opts, out);
  if (r < 0) { /* nothing reached the volume */
    unlink(c->overlay);
    return ferry_error_prefix("disk %s: the guest was left as it was: ",
                              c->device);
  }
  if ((r = statefile_write(c->done, *out, strlen(*out))) == 0)
    r = commit(c->overlay, c->done, NULL);
  return r < 0 ? ferry_error_prefix("disk %s: ", c->device) : 0;
}

int image_convert(const struct image_conversion *c,
                  const struct guest_convert_opts *opts, char **report)
{
  *report = NULL;
  return access(c->done, F_OK) == 0 ? commit(c->overlay, c->done, report)
                                    : convert(c, opts, report);
}
