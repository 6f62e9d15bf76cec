/* Internal: memory for secrets (passwords). Such a copy lives on pages
 * that core dumps leave out (MADV_DONTDUMP), is wiped when freed, and the
 * first one makes the process non-dumpable (PR_SET_DUMPABLE 0: no core
 * file, no ptrace or /proc/PID/mem by other processes of the user). */
#ifndef FERRY_CORE_SECRET_H
#define FERRY_CORE_SECRET_H

/* A copy of s (NULL gives NULL); NULL with ENOMEM set on failure. */
char *secret_dup(const char *s);
/* Wipes and frees a copy made by secret_dup (NULL is fine). */
void secret_free(char *s);

#endif
