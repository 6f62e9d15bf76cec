/* Internal: libvirt, loaded with dlopen when a libvirt platform client
 * opens (core/dynlib.h): glib and the rest of what it pulls in are 14 MiB
 * resident and 30 ms of a cold start that a copy between files or an NBD
 * sync does not need. Including this header (lv.h does) routes every
 * libvirt call below through the loaded table. */
#ifndef FERRY_LIBVIRT_VIRT_LIB_H
#define FERRY_LIBVIRT_VIRT_LIB_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "../../core/dynlib.h"

#define VIRT_LIB_FUNCS(X) \
  X(virConnectClose) X(virConnectGetHostname) X(virConnectIsAlive)            \
  X(virConnectListAllDomains) X(virConnectListAllNetworks)                    \
  X(virConnectListAllStoragePools) X(virConnectOpenAuth)                      \
  X(virDomainAbortJob) X(virDomainBackupBegin) X(virDomainBackupGetXMLDesc)   \
  X(virDomainCheckpointDelete) X(virDomainCheckpointFree)                     \
  X(virDomainCheckpointLookupByName) X(virDomainCreate)                       \
  X(virDomainDefineXML) X(virDomainDestroy) X(virDomainFree)                  \
  X(virDomainGetBlockInfo) X(virDomainGetConnect) X(virDomainGetName)         \
  X(virDomainGetState) X(virDomainGetUUIDString) X(virDomainGetXMLDesc)       \
  X(virDomainHasCurrentSnapshot) X(virDomainIsActive)                         \
  X(virDomainListAllSnapshots) X(virDomainLookupByName)                       \
  X(virDomainLookupByUUIDString) X(virDomainResume)                           \
  X(virDomainRevertToSnapshot) X(virDomainShutdown)                           \
  X(virDomainSnapshotCreateXML) X(virDomainSnapshotCurrent)                   \
  X(virDomainSnapshotDelete) X(virDomainSnapshotFree)                         \
  X(virDomainSnapshotGetName) X(virDomainSnapshotGetXMLDesc)                  \
  X(virDomainSnapshotLookupByName) X(virDomainUndefineFlags)                  \
  X(virGetLastError) X(virNetworkFree) X(virNetworkGetName)                   \
  X(virNetworkGetXMLDesc) X(virNetworkLookupByName) X(virNodeGetInfo)         \
  X(virResetLastError) X(virSetErrorFunc) X(virStoragePoolFree)               \
  X(virStoragePoolGetInfo) X(virStoragePoolGetName)                           \
  X(virStoragePoolListAllVolumes) X(virStoragePoolLookupByName)               \
  X(virStorageVolCreateXML) X(virStorageVolDelete) X(virStorageVolFree)       \
  X(virStorageVolGetInfo) X(virStorageVolGetName) X(virStorageVolGetPath)     \
  X(virStorageVolGetXMLDesc) X(virStorageVolLookupByName)                     \
  X(virStorageVolLookupByPath)

DYNLIB_DECLARE(virt, VIRT_LIB_FUNCS)

#ifndef VIRT_LIB_NO_REDIRECT
#define VIRT_LIB(f) (virt_lib()->f)
#define virConnectClose VIRT_LIB(virConnectClose)
#define virConnectGetHostname VIRT_LIB(virConnectGetHostname)
#define virConnectIsAlive VIRT_LIB(virConnectIsAlive)
#define virConnectListAllDomains VIRT_LIB(virConnectListAllDomains)
#define virConnectListAllNetworks VIRT_LIB(virConnectListAllNetworks)
#define virConnectListAllStoragePools VIRT_LIB(virConnectListAllStoragePools)
#define virConnectOpenAuth VIRT_LIB(virConnectOpenAuth)
#define virDomainAbortJob VIRT_LIB(virDomainAbortJob)
#define virDomainBackupBegin VIRT_LIB(virDomainBackupBegin)
#define virDomainBackupGetXMLDesc VIRT_LIB(virDomainBackupGetXMLDesc)
#define virDomainCheckpointDelete VIRT_LIB(virDomainCheckpointDelete)
#define virDomainCheckpointFree VIRT_LIB(virDomainCheckpointFree)
#define virDomainCheckpointLookupByName \
  VIRT_LIB(virDomainCheckpointLookupByName)
#define virDomainCreate VIRT_LIB(virDomainCreate)
#define virDomainDefineXML VIRT_LIB(virDomainDefineXML)
#define virDomainDestroy VIRT_LIB(virDomainDestroy)
#define virDomainFree VIRT_LIB(virDomainFree)
#define virDomainGetBlockInfo VIRT_LIB(virDomainGetBlockInfo)
#define virDomainGetConnect VIRT_LIB(virDomainGetConnect)
#define virDomainGetName VIRT_LIB(virDomainGetName)
#define virDomainGetState VIRT_LIB(virDomainGetState)
#define virDomainGetUUIDString VIRT_LIB(virDomainGetUUIDString)
#define virDomainGetXMLDesc VIRT_LIB(virDomainGetXMLDesc)
#define virDomainHasCurrentSnapshot VIRT_LIB(virDomainHasCurrentSnapshot)
#define virDomainIsActive VIRT_LIB(virDomainIsActive)
#define virDomainListAllSnapshots VIRT_LIB(virDomainListAllSnapshots)
#define virDomainLookupByName VIRT_LIB(virDomainLookupByName)
#define virDomainLookupByUUIDString VIRT_LIB(virDomainLookupByUUIDString)
#define virDomainResume VIRT_LIB(virDomainResume)
#define virDomainRevertToSnapshot VIRT_LIB(virDomainRevertToSnapshot)
#define virDomainShutdown VIRT_LIB(virDomainShutdown)
#define virDomainSnapshotCreateXML VIRT_LIB(virDomainSnapshotCreateXML)
#define virDomainSnapshotCurrent VIRT_LIB(virDomainSnapshotCurrent)
#define virDomainSnapshotDelete VIRT_LIB(virDomainSnapshotDelete)
#define virDomainSnapshotFree VIRT_LIB(virDomainSnapshotFree)
#define virDomainSnapshotGetName VIRT_LIB(virDomainSnapshotGetName)
#define virDomainSnapshotGetXMLDesc VIRT_LIB(virDomainSnapshotGetXMLDesc)
#define virDomainSnapshotLookupByName VIRT_LIB(virDomainSnapshotLookupByName)
#define virDomainUndefineFlags VIRT_LIB(virDomainUndefineFlags)
#define virGetLastError VIRT_LIB(virGetLastError)
#define virNetworkFree VIRT_LIB(virNetworkFree)
#define virNetworkGetName VIRT_LIB(virNetworkGetName)
#define virNetworkGetXMLDesc VIRT_LIB(virNetworkGetXMLDesc)
#define virNetworkLookupByName VIRT_LIB(virNetworkLookupByName)
#define virNodeGetInfo VIRT_LIB(virNodeGetInfo)
#define virResetLastError VIRT_LIB(virResetLastError)
#define virSetErrorFunc VIRT_LIB(virSetErrorFunc)
#define virStoragePoolFree VIRT_LIB(virStoragePoolFree)
#define virStoragePoolGetInfo VIRT_LIB(virStoragePoolGetInfo)
#define virStoragePoolGetName VIRT_LIB(virStoragePoolGetName)
#define virStoragePoolListAllVolumes VIRT_LIB(virStoragePoolListAllVolumes)
#define virStoragePoolLookupByName VIRT_LIB(virStoragePoolLookupByName)
#define virStorageVolCreateXML VIRT_LIB(virStorageVolCreateXML)
#define virStorageVolDelete VIRT_LIB(virStorageVolDelete)
#define virStorageVolFree VIRT_LIB(virStorageVolFree)
#define virStorageVolGetInfo VIRT_LIB(virStorageVolGetInfo)
#define virStorageVolGetName VIRT_LIB(virStorageVolGetName)
#define virStorageVolGetPath VIRT_LIB(virStorageVolGetPath)
#define virStorageVolGetXMLDesc VIRT_LIB(virStorageVolGetXMLDesc)
#define virStorageVolLookupByName VIRT_LIB(virStorageVolLookupByName)
#define virStorageVolLookupByPath VIRT_LIB(virStorageVolLookupByPath)
#endif

#endif
