/* Reading a secret from the terminal without echo. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "secret.h"

bool read_secret(const char *prompt, char *buf, size_t len)
{
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return false;
  struct termios old, quiet;
  bool tty = tcgetattr(fd, &old) == 0;
  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  if (write(fd, prompt, strlen(prompt)) < 0) { /* best effort */ }
  size_t n = 0;
  char c;
  while (n + 1 < len && read(fd, &c, 1) == 1 && c != '\n')
    buf[n++] = c;
  buf[n] = 0;
  if (tty)
    tcsetattr(fd, TCSAFLUSH, &old);
  if (write(fd, "\n", 1) < 0) { /* best effort */ }
  close(fd);
  return tty;
}
