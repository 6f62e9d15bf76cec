/* SmartX ELF-only entries (CloudTower). */
#ifndef FERRY_ELF_H
#define FERRY_ELF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The SHA-256 fingerprint ("AA:BB:...", 32 bytes) of the certificate of
 * the CloudTower at host[:port], for elf://...?fingerprint=. Whoever
 * trusts what this returns trusts it on first use. */
int ferry_elf_fingerprint(const char *host, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
