/* Shared pieces of the ferry command line. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ferry/ferry.h>

/* Exit codes, listed in `ferry --help`. */
enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,    /* the operation failed; the message says why */
  EXIT_USAGE = 2,     /* bad command line or bad input file */
  EXIT_VERIFY = 3,    /* --verify found a difference */
  EXIT_CANCELLED = 4, /* interrupted (SIGINT/SIGTERM) */
};

/* A SRC or DST argument opened as a client and a volume id. */
struct endpoint {
  client_t *client;
  char *volume;
  char *display;
  char *create_path; /* a plain path that does not exist yet */
};

int endpoint_open(const char *arg, bool may_create, struct endpoint *out);
void endpoint_close(struct endpoint *ep);

/* --progress[=fd:N]: lines even when stderr is no terminal, or JSON lines
 * for machines on descriptor N (progress.c). */
struct progress_opt {
  bool lines;
  int fd; /* -1: none */
};

/* Progress on stderr: a bar on a TTY, else a line a second when forced;
 * or JSON lines on a descriptor. Each pass ("copy", "verify") has its own
 * label, rate and ETA. */
struct progress {
  bool bar, lines;
  int fd;
  double t0, last, prev; /* the pass's start, last line, last call */
  const char *phase;
};
void progress_init(struct progress *p, const struct progress_opt *opt);
int progress_phase_cb(void *opaque, const char *phase, uint64_t done,
                      uint64_t total);
void progress_end(struct progress *p);

/* One JSON line on fd: {"time", "phase", "done", "total",
 * "bytes_per_second", "eta_seconds", "final"} and the members of extra
 * (taken; may be NULL), as a machine reads --progress=fd:N. */
struct json_object;
void progress_json_line(int fd, const char *phase, uint64_t done,
                        uint64_t total, double seconds, bool final,
                        struct json_object *extra);

/* Set by SIGINT/SIGTERM; the progress callback cancels the copy. */
extern volatile int cli_interrupted;
void cli_catch_signals(void);

/* The command line's own errors: cli_error() keeps a message, cli_fail()
 * prints it (as text on stderr, or as one JSON object on stdout with
 * --json) and returns the exit code. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail(bool json, const char *cmd, int code);
/* A failure's keys, as every --json error has them: error, errno,
 * errno_name, exit_code. */
struct json_object;
void json_add_error(struct json_object *j, const char *msg, int err,
                    int code);

double now_seconds(void);
void human_size(uint64_t bytes, char *buf, size_t len);
/* Parses sizes like 2M, 1MiB, 4096; false on bad input. */
bool parse_size(const char *s, uint64_t *out);
bool parse_uint(const char *s, unsigned *out);

int cmd_sync(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_inventory(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_network(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_vmware(int argc, char **argv);
int cmd_elf(int argc, char **argv);

#endif
