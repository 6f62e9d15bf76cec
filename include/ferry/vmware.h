/* VMware-only entries of the seed. */
#ifndef FERRY_VMWARE_H
#define FERRY_VMWARE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The SHA-1 thumbprint ("AA:BB:...") of a vCenter's or an ESXi host's
 * certificate at host[:port], as the seed's GetthumbPrint_vcenter and
 * GetthumbPrint_esxi: -EPROTO when the server is of the other kind.
 * Whoever trusts what this returns trusts it on first use. */
int ferry_get_thumbprint_vcenter(const char *host, char *buf, size_t len);
int ferry_get_thumbprint_esxi(const char *host, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
