/* NBD URI parsing. */
#include <errno.h>

#include "../../lib/core/error.h"
#include "../../lib/core/uri.h"
#include "check.h"

int main(void)
{
  struct nbd_uri u;
  CHECK(nbd_uri_parse("nbd://example.test", &u) == 0);
  CHECK(!u.is_unix && !strcmp(u.host, "example.test"));
  CHECK(!strcmp(u.port, "10809") && !strcmp(u.export, ""));
  nbd_uri_free(&u);

  CHECK(nbd_uri_parse("nbd://127.0.0.1:1234/disk%201", &u) == 0);
  CHECK(!strcmp(u.host, "127.0.0.1") && !strcmp(u.port, "1234"));
  CHECK(!strcmp(u.export, "disk 1"));
  nbd_uri_free(&u);

  CHECK(nbd_uri_parse("nbd://[::1]:10810/x", &u) == 0);
  CHECK(!strcmp(u.host, "::1") && !strcmp(u.port, "10810"));
  CHECK(!strcmp(u.export, "x"));
  nbd_uri_free(&u);

  CHECK(nbd_uri_parse("nbd+unix:///exp?socket=/tmp/a%20b.sock", &u) == 0);
  CHECK(u.is_unix && !strcmp(u.socket, "/tmp/a b.sock"));
  CHECK(!strcmp(u.export, "exp"));
  nbd_uri_free(&u);

  CHECK(nbd_uri_parse("nbd+unix://?socket=/s", &u) == 0);
  CHECK(!strcmp(u.export, "") && !strcmp(u.socket, "/s"));
  nbd_uri_free(&u);

  CHECK(nbd_uri_parse("nbd+unix:///exp", &u) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "socket=");
  CHECK(nbd_uri_parse("nbd+unix://host/exp?socket=/s", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbd://h:0/", &u) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "port");
  CHECK(nbd_uri_parse("nbd://h:99999/", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbd://h:12a/", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbd:///exp", &u) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "host");
  CHECK(nbd_uri_parse("nbd://h/%zz", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbd://h/%00", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbd://h/%4", &u) == -EINVAL);
  CHECK(nbd_uri_parse("http://h/", &u) == -EINVAL);
  CHECK(nbd_uri_parse("nbds://h/", &u) == -ENOTSUP);
  CHECK_HAS(ferry_last_error(), "TLS");

  /* Failures never look like success: an unknown key is an error, a TLS
   * parameter never means plaintext, a password is never echoed and the
   * port is not blamed for it. */
  CHECK(nbd_uri_parse("nbd+unix:///e?socket=/s&sokcet=/t", &u) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "unknown query parameter 'sokcet'");
  CHECK(nbd_uri_parse("nbd://h/e?socket=/s", &u) == -EINVAL);
  CHECK_HAS(ferry_last_error(), "unknown query parameter 'socket'");
  CHECK(nbd_uri_parse("nbd://h/e?tls=require", &u) == -ENOTSUP);
  CHECK_HAS(ferry_last_error(), "plaintext");
  CHECK(nbd_uri_parse("nbd+unix:///e?socket=/s&tls-certificates=/c", &u) ==
        -ENOTSUP);
  CHECK(nbd_uri_parse("nbd://user:s3cret@h:10809/e", &u) == -EINVAL);
  CHECK(!strstr(ferry_last_error(), "s3cret") &&
        !strstr(ferry_last_error(), "port"));
  CHECK_HAS(ferry_last_error(), "no user or password");
  CHECK(nbd_uri_parse("nbds://user:s3cret@h/e", &u) == -ENOTSUP);
  CHECK(!strstr(ferry_last_error(), "s3cret"));
  char red[128];
  uri_redact("vmware://root:pw@h:443/?x=1", red, sizeof red);
  CHECK(!strcmp(red, "vmware://***@h:443/?x=1"));
  uri_redact("nbd://h/e@x", red, sizeof red); /* '@' past the host stays */
  CHECK(!strcmp(red, "nbd://h/e@x"));

  CHECK(nbd_uri_is("nbd://x") && nbd_uri_is("nbd+unix:///?socket=x"));
  CHECK(!nbd_uri_is("/nbd://") && !nbd_uri_is("file:///x"));
  return 0;
}
