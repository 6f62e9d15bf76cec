/* Internal: a migration's journal (journal.c). */
#ifndef FERRY_MIGRATE_JOURNAL_H
#define FERRY_MIGRATE_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <ferry/drivers.h>
#include <ferry/migrate.h>

/* The format journal_save writes (the journal's "version"). */
#define JOURNAL_VERSION 2

/* One migration's journal, locked while a step runs. */
struct journal {
  char path[PATH_MAX], helpers[PATH_MAX];
  int lock;
  bool owns_log; /* the process's helper log is this step's */
  struct ferry_migration m;
  /* This step's credentials, never saved. */
  const struct ferry_auth *src_auth, *dst_auth;
};

/* Opens (create: makes) migration id's journal under dir (NULL: the
 * default) and locks it; reaps the helpers a killed step left. Close it
 * with journal_close whatever this returns. */
int journal_open(const char *dir, const char *id, bool create,
                 struct journal *j);
int journal_save(struct journal *j);
/* Copies the journal to out (may be NULL), unlocks and frees it. */
void journal_close(struct journal *j, struct ferry_migration *out);
/* Reads a journal without its lock (for status). */
int journal_read(const char *dir, const char *id, struct ferry_migration *m);
int journal_dir_of(const char *dir, char *buf);
/* This step's credentials (never saved), from the caller's struct. */
int journal_take_auth(struct journal *j,
                      const struct ferry_migrate_auth *auth);

/* Wall time in milliseconds: the journal's timestamps, and the downtime,
 * which spans processes (a cutover killed and resumed). */
uint64_t now_ms(void);
/* *f = a copy of v ("" for NULL). */
int set_str(char **f, const char *v);

#endif
