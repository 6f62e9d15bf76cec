/* Internal: which module files a set of kernel modules needs
 * (initrd.c), for the archive appended to an initramfs. */
#ifndef FERRY_INITRD_H
#define FERRY_INITRD_H

#include <stddef.h>

/* The module files (paths relative to /lib/modules/KVER, as modules.dep
 * names them) that the modules want[] need, each with all it depends on,
 * each once, dependencies first; the built-in ones (modules.builtin)
 * need none. *paths and its strings malloc'd. -ENOENT naming a module
 * that is neither. */
int initrd_modules(const char *modules_dep, const char *modules_builtin,
                   const char *const *want, char ***paths, size_t *n);
void initrd_modules_free(char **paths, size_t n);

#endif
