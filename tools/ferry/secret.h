/* Reading a secret from the terminal without echo. */
#ifndef FERRY_CLI_SECRET_H
#define FERRY_CLI_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Prompts on /dev/tty and reads one line with echo off. False when there
 * is no terminal (nothing is read from a pipe). */
bool read_secret(const char *prompt, char *buf, size_t len);

#endif
