/* Libraries loaded on first use (lib/core/dynlib.c): a table filled from a
 * real library, and the messages when the library or a function is not
 * there. */
#include <errno.h>
#include <libnbd.h>

#include "../../lib/core/dynlib.h"
#include "../../lib/core/error.h"
#include "check.h"

#define GOOD(X) X(nbd_create) X(nbd_close)
#define BAD(X) X(nbd_create)
DYNLIB_DECLARE(good, GOOD)
DYNLIB_DEFINE(good, "libnbd.so.0", "libnbd0", GOOD)
DYNLIB_DECLARE(gone, BAD)
DYNLIB_DEFINE(gone, "libferry-no-such.so.9", "ferry-no-such", BAD)

/* A function the library does not have. */
int nbd_no_such_function(void);
#define LACKING(X) X(nbd_create) X(nbd_no_such_function)
DYNLIB_DECLARE(lacking, LACKING)
DYNLIB_DEFINE(lacking, "libnbd.so.0", "libnbd0", LACKING)

int main(void)
{
  CHECK(good_lib_load() == 0);
  CHECK(good_lib_load() == 0); /* once, then the same answer */
  struct nbd_handle *h = good_lib()->nbd_create();
  CHECK(h != NULL);
  good_lib()->nbd_close(h);

  CHECK(gone_lib_load() == -ENOTSUP);
  CHECK_HAS(ferry_last_error(), "cannot load libferry-no-such.so.9");
  CHECK_HAS(ferry_last_error(), "install Debian's ferry-no-such");
  CHECK(gone_lib_load() == -ENOTSUP);

  CHECK(lacking_lib_load() == -ENOTSUP);
  CHECK_HAS(ferry_last_error(), "lacks nbd_no_such_function");
  return 0;
}
