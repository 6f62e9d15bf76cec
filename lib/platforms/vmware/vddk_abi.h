/* Internal: the part of VMware's VDDK ABI (vixDiskLib.h) that ferry uses.
 *
 * Written from VMware's public documentation of the Virtual Disk Development
 * Kit ("Virtual Disk Development Kit Programming Guide" and the VixDiskLib
 * API reference, VDDK 6.7 to 8.0): the types, constants and functions below
 * keep VMware's names so they can be checked against that reference. ferry
 * does not link with VDDK: it loads libvixDiskLib.so with dlopen() and finds
 * each function with dlsym(), so this header holds function pointer types,
 * not prototypes. tests/vddk-dummy implements the same ABI from this file.
 *
 * The structures are what the real library reads and writes, so their layout
 * matters; the static assertions at the end pin it for LP64 Linux, the only
 * platform VDDK ships for.
 */
#ifndef FERRY_VDDK_ABI_H
#define FERRY_VDDK_ABI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A VixError is 64 bits; the error code proper is its low 16 bits (VIX's
 * VIX_ERROR_CODE()), the rest may carry extra detail. */
typedef uint64_t VixError;
#define VIX_ERROR_CODE(err) ((err) & 0xFFFF)
#define VIX_OK 0

/* Error codes ferry tells apart (VIX and VixDiskLib error code tables). */
#define VIX_E_FAIL 1
#define VIX_E_OUT_OF_MEMORY 2
#define VIX_E_INVALID_ARG 3
#define VIX_E_FILE_NOT_FOUND 4
#define VIX_E_NOT_SUPPORTED 6
#define VIX_E_FILE_READ_ONLY 11
#define VIX_E_FILE_ACCESS_ERROR 13
#define VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT 20
#define VIX_E_OBJECT_NOT_FOUND 25
#define VIX_E_AUTHENTICATION_FAIL 35
#define VIX_E_HOST_CONNECTION_LOST 36
#define VIX_E_DISK_INVAL 16000
#define VIX_E_DISK_NOINIT 16001
#define VIX_E_DISK_NOIO 16002
#define VIX_E_DISK_OUTOFRANGE 16007
#define VIX_E_CANNOT_CONNECT_TO_HOST 18000

/* Disk addresses and lengths are in 512-byte sectors. */
typedef uint64_t VixDiskLibSectorType;
#define VIXDISKLIB_SECTOR_SIZE 512

/* VixDiskLib_Open flags. */
#define VIXDISKLIB_FLAG_OPEN_UNBUFFERED 1
#define VIXDISKLIB_FLAG_OPEN_SINGLE_LINK 2
#define VIXDISKLIB_FLAG_OPEN_READ_ONLY 4

/* VixDiskLib_QueryAllocatedBlocks (VDDK 6.7+): the chunk size, in sectors,
 * is a power of two of at least VIXDISKLIB_MIN_CHUNK_SIZE, and one call
 * covers at most VIXDISKLIB_MAX_CHUNK_NUMBER chunks. */
#define VIXDISKLIB_MIN_CHUNK_SIZE 128
#define VIXDISKLIB_MAX_CHUNK_NUMBER (512 * 1024)

/* Opaque handles. */
typedef void *VixDiskLibConnection;
typedef void *VixDiskLibHandle;

/* The log, warning and panic callbacks given to VixDiskLib_InitEx. */
typedef void VixDiskLibGenericLogFunc(const char *fmt, va_list args);

typedef enum {
  VIXDISKLIB_CRED_UID = 1,       /* user name and password */
  VIXDISKLIB_CRED_SESSIONID = 2, /* an HTTP session cookie */
  VIXDISKLIB_CRED_TICKETID = 3,  /* a vSphere ticket (internal use) */
  VIXDISKLIB_CRED_SSPI = 4,      /* Windows only */
  VIXDISKLIB_CRED_UNKNOWN = 256,
} VixDiskLibCredType;

/* What VixDiskLibConnectParams names (VDDK 6.7+): a VM's disk (vmxSpec) or
 * a first-class disk (vStorageObjSpec). Zero, the VM case, is what ferry
 * uses. */
typedef enum {
  VIXDISKLIB_SPEC_VMX = 0,
  VIXDISKLIB_SPEC_VSTORAGE_OBJECT = 1,
  VIXDISKLIB_SPEC_UNKNOWN = 2,
} VixDiskLibSpecType;

typedef struct VixDiskLibVStorageObjectSpec {
  char *id;
  char *datastoreMoRef;
  char *ssId;
} VixDiskLibVStorageObjectSpec;

struct VixDiskLibTicketIdCreds; /* opaque: VDDK's own */

/* Where and as whom to connect. Through VDDK 6.5 the structure ends at
 * reserved[]; 6.7 appended the spec members, and VMware asks programs to
 * allocate it with VixDiskLib_AllocateConnectParams (where present) so a
 * later library may grow it further. */
typedef struct VixDiskLibConnectParams {
  char *vmxSpec;    /* "moref=vm-42" for a VM known to vCenter or ESXi */
  char *serverName; /* host name or IP of vCenter or ESXi */
  char *thumbPrint; /* the server certificate's SHA-1, "AA:BB:..." */
  long privateUse;  /* reserved: zero */
  VixDiskLibCredType credType;
  union VixDiskLibCreds {
    struct VixDiskLibUidPasswdCreds {
      char *userName;
      char *password;
    } uid;
    struct VixDiskLibSessionIdCreds {
      char *cookie;
      char *userName;
      char *key;
    } sessionId;
    struct VixDiskLibTicketIdCreds *ticketId;
  } creds;
  uint32_t port;        /* 0: 443 */
  uint32_t nfcHostPort; /* 0: 902 */
  char *vimApiVer;      /* reserved: NULL */
  char reserved[8];
  /* VDDK 6.7 and later: */
  void *reserved2;
  union {
    VixDiskLibVStorageObjectSpec vStorageObjSpec;
  } spec;
  VixDiskLibSpecType specType;
} VixDiskLibConnectParams;

typedef struct VixDiskLibGeometry {
  uint32_t cylinders;
  uint32_t heads;
  uint32_t sectors;
} VixDiskLibGeometry;

typedef enum {
  VIXDISKLIB_ADAPTER_IDE = 1,
  VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC = 2,
  VIXDISKLIB_ADAPTER_SCSI_LSILOGIC = 3,
  VIXDISKLIB_ADAPTER_UNKNOWN = 256,
} VixDiskLibAdapterType;

/* Filled in by VixDiskLib_GetInfo, freed with VixDiskLib_FreeInfo. */
typedef struct VixDiskLibInfo {
  VixDiskLibGeometry biosGeo;
  VixDiskLibGeometry physGeo;
  VixDiskLibSectorType capacity; /* in sectors */
  VixDiskLibAdapterType adapterType;
  int numLinks;                  /* 1 + the number of parents */
  char *parentFileNameHint;
  char *uuid;
} VixDiskLibInfo;

/* An allocated range, in sectors. */
typedef struct VixDiskLibBlock {
  VixDiskLibSectorType offset;
  VixDiskLibSectorType length;
} VixDiskLibBlock;

/* numBlocks entries follow; allocated by the library. */
typedef struct VixDiskLibBlockList {
  uint32_t numBlocks;
  VixDiskLibBlock blocks[1];
} VixDiskLibBlockList;

/* The functions, as pointer types for dlsym(). */
typedef VixError VixDiskLib_InitEx_fn(uint32_t majorVersion,
                                      uint32_t minorVersion,
                                      VixDiskLibGenericLogFunc *log,
                                      VixDiskLibGenericLogFunc *warn,
                                      VixDiskLibGenericLogFunc *panic,
                                      const char *libDir,
                                      const char *configFile);
typedef void VixDiskLib_Exit_fn(void);
/* VDDK 6.7+ (optional). */
typedef VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams_fn(void);
typedef void VixDiskLib_FreeConnectParams_fn(VixDiskLibConnectParams *p);
/* readOnly is a C char (Bool in VMware's headers). */
typedef VixError VixDiskLib_ConnectEx_fn(const VixDiskLibConnectParams *params,
                                         char readOnly,
                                         const char *snapshotRef,
                                         const char *transportModes,
                                         VixDiskLibConnection *connection);
typedef VixError VixDiskLib_Disconnect_fn(VixDiskLibConnection connection);
typedef VixError VixDiskLib_Open_fn(const VixDiskLibConnection connection,
                                    const char *path, uint32_t flags,
                                    VixDiskLibHandle *handle);
typedef VixError VixDiskLib_Close_fn(VixDiskLibHandle handle);
typedef VixError VixDiskLib_GetInfo_fn(VixDiskLibHandle handle,
                                       VixDiskLibInfo **info);
typedef void VixDiskLib_FreeInfo_fn(VixDiskLibInfo *info);
typedef VixError VixDiskLib_Read_fn(VixDiskLibHandle handle,
                                    VixDiskLibSectorType startSector,
                                    VixDiskLibSectorType numSectors,
                                    uint8_t *readBuffer);
typedef VixError VixDiskLib_Write_fn(VixDiskLibHandle handle,
                                     VixDiskLibSectorType startSector,
                                     VixDiskLibSectorType numSectors,
                                     const uint8_t *writeBuffer);
/* VDDK 6.7+ (optional). */
typedef VixError VixDiskLib_QueryAllocatedBlocks_fn(
    VixDiskLibHandle handle, VixDiskLibSectorType startSector,
    VixDiskLibSectorType numSectors, VixDiskLibSectorType chunkSize,
    VixDiskLibBlockList **blockList);
typedef VixError VixDiskLib_FreeBlockList_fn(VixDiskLibBlockList *blockList);
/* locale is NULL for English; free the text with FreeErrorText. */
typedef char *VixDiskLib_GetErrorText_fn(VixError err, const char *locale);
typedef void VixDiskLib_FreeErrorText_fn(char *text);
/* "file", "san", "hotadd", "nbd" or "nbdssl"; owned by the library. */
typedef const char *VixDiskLib_GetTransportMode_fn(VixDiskLibHandle handle);

/* The layout on LP64 (x86_64 and aarch64 Linux, where VDDK ships). */
#if defined(__LP64__)
_Static_assert(offsetof(VixDiskLibConnectParams, privateUse) == 24, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, credType) == 32, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, creds) == 40, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, port) == 64, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, vimApiVer) == 72, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, reserved2) == 88, "abi");
_Static_assert(offsetof(VixDiskLibConnectParams, specType) == 120, "abi");
_Static_assert(sizeof(VixDiskLibConnectParams) == 128, "abi");
_Static_assert(offsetof(VixDiskLibInfo, capacity) == 24, "abi");
_Static_assert(offsetof(VixDiskLibInfo, parentFileNameHint) == 40, "abi");
_Static_assert(sizeof(VixDiskLibInfo) == 56, "abi");
_Static_assert(sizeof(VixDiskLibBlockList) == 24, "abi");
#endif

#endif
