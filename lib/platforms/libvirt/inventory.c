/* The libvirt platform's inventory: domains as VMs, the node as the one
 * host, networks and port groups as VLANs, pools' volumes as volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/client.h"
#include "../../core/error.h"
#include "../driver.h"
#include "lv.h"


int lv_lookup(struct ferry_client *fc, const char *key, virDomainPtr *out)
{
  virConnectPtr c = LV_CONN(fc);
  *out = key && strlen(key) == VIR_UUID_STRING_BUFLEN - 1
             ? virDomainLookupByUUIDString(c, key) : NULL;
  if (!*out && key)
    *out = virDomainLookupByName(c, key);
  if (!*out)
    return ferry_error(ENOENT, "no VM '%s' on the libvirt platform",
                       key ? key : "");
  return 0;
}

int lv_vms(struct ferry_client *fc, struct ferry_vm **out, size_t *n)
{
  virDomainPtr *doms = NULL;
  *out = NULL;
  *n = 0;
  int count = virConnectListAllDomains(LV_CONN(fc), &doms, 0);
  if (count < 0)
    return lv_error("list domains");
  struct ferry_vm *v = calloc(count ? (size_t)count : 1, sizeof *v);
  int r = v ? 0 : ferry_error(ENOMEM, "out of memory");
  size_t k = 0;
  for (int i = 0; i < count; i++) {
    /* one that went while listing is no error */
    if (r == 0 && (r = lv_domain_to_vm(doms[i], &v[k])) == 0)
      k++;
    else if (r == -ENOENT)
      r = 0;
    virDomainFree(doms[i]);
  }
  free(doms);
  if (r < 0) {
    ferry_vm_list_free(v, k);
    return r;
  }
  *out = v;
  *n = k;
  return 0;
}

int lv_lookup_vm(struct ferry_client *fc, const char *key,
                 struct ferry_vm *out)
{
  virDomainPtr dom;
  int r = lv_lookup(fc, key, &dom);
  if (r == 0) {
    r = lv_domain_to_vm(dom, out);
    virDomainFree(dom);
  }
  return r;
}

int lv_datacenters(struct ferry_client *fc, struct ferry_datacenter **out,
                   size_t *n)
{
  (void)fc;
  return platform_one_datacenter(LV_DC, out, n);
}

int lv_clusters(struct ferry_client *fc, struct ferry_cluster **out,
                size_t *n)
{
  (void)fc;
  return platform_one_cluster(LV_DC, out, n);
}

int lv_hosts(struct ferry_client *fc, struct ferry_host **out, size_t *n)
{
  virNodeInfo ni;
  if (virNodeGetInfo(LV_CONN(fc), &ni) < 0)
    return lv_error("node info");
  char *name = virConnectGetHostname(LV_CONN(fc));
  if (!name)
    return lv_error("host name");
  struct ferry_host *h = calloc(1, sizeof *h);
  if (h) {
    ferry_host_init(h);
    h->id = strdup(name);
    h->name = strdup(name);
    h->cluster_id = strdup(LV_DC);
    h->datacenter_id = strdup(LV_DC);
    h->cpus = ni.cpus;
    h->memory_mib = ni.memory >> 10; /* KiB */
    h->connected = virConnectIsAlive(LV_CONN(fc)) == 1;
  }
  free(name);
  if (!h || !h->id || !h->name || !h->cluster_id || !h->datacenter_id) {
    ferry_host_list_free(h, h ? 1 : 0);
    return ferry_error(ENOMEM, "out of memory");
  }
  *out = h;
  *n = 1;
  return 0;
}

/* A growing list of VLANs. */
struct vlans {
  struct ferry_vlan *v;
  size_t n;
};

static int add_vlan(struct vlans *l, const char *id, const xmlNode *vlan)
{
  struct ferry_vlan *x = ferry_vlan_list_append(&l->v, &l->n);
  if (!x || !(x->id = strdup(id)) || !(x->name = strdup(id)))
    return ferry_error(ENOMEM, "out of memory");
  /* a trunk of several tags is no one VLAN: untagged; its port groups
   * are the tagged ones */
  char trunk[8], tag[16];
  const xmlNode *t = lv_child(vlan, "tag");
  if (vlan && t && !lv_next(t, "tag") &&
      strcmp(lv_attr(vlan, "trunk", trunk, sizeof trunk), "yes"))
    x->vlan_id = atoll(lv_attr(t, "id", tag, sizeof tag));
  return 0;
}

static int network_vlans(virNetworkPtr net, struct vlans *l)
{
  const char *name = virNetworkGetName(net);
  xmlDoc *doc;
  int r = lv_xml_take(virNetworkGetXMLDesc(net, 0), name, &doc);
  if (r < 0)
    return r;
  const xmlNode *root = xmlDocGetRootElement(doc);
  r = add_vlan(l, name, lv_child(root, "vlan"));
  char pg[256], id[520];
  for (xmlNode *g = lv_child(root, "portgroup"); g && r == 0;
       g = lv_next(g, "portgroup")) {
    snprintf(id, sizeof id, "%s/%s", name, lv_attr(g, "name", pg, sizeof pg));
    r = add_vlan(l, id, lv_child(g, "vlan"));
  }
  xmlFreeDoc(doc);
  return r;
}

int lv_vlans(struct ferry_client *fc, struct ferry_vlan **out, size_t *n)
{
  virNetworkPtr *nets = NULL;
  int count = virConnectListAllNetworks(LV_CONN(fc), &nets, 0);
  if (count < 0)
    return lv_error("list networks");
  struct vlans l = { NULL, 0 };
  int r = 0;
  for (int i = 0; i < count; i++) {
    if (r == 0)
      r = network_vlans(nets[i], &l);
    virNetworkFree(nets[i]);
  }
  free(nets);
  if (r < 0) {
    ferry_vlan_list_free(l.v, l.n);
    return r;
  }
  *out = l.v;
  *n = l.n;
  return 0;
}

int lv_vol_describe(const char *pool, virStorageVolPtr vol,
                    struct ferry_volume_info *out)
{
  ferry_volume_info_init(out);
  char id[1024], fmt[32] = "";
  const char *name = virStorageVolGetName(vol);
  snprintf(id, sizeof id, "%s/%s", pool, name);
  virStorageVolInfo info;
  char *path = virStorageVolGetPath(vol);
  xmlDoc *doc = NULL;
  int r = !path || virStorageVolGetInfo(vol, &info) < 0
              ? lv_error("volume %s", id)
              : lv_xml_take(virStorageVolGetXMLDesc(vol, 0), id, &doc);
  if (r == 0) {
    lv_attr(lv_child(lv_child(xmlDocGetRootElement(doc), "target"),
                     "format"), "type", fmt, sizeof fmt);
    if (!ferry_obj_string_set(&out->id, id) ||
        !ferry_obj_string_set(&out->name, name) ||
        !ferry_obj_string_set(&out->path, path) ||
        !ferry_obj_string_set(&out->format, fmt))
      r = ferry_error(ENOMEM, "out of memory");
    out->capacity = info.capacity;
    out->allocated = info.allocation;
  }
  xmlFreeDoc(doc);
  free(path);
  if (r < 0)
    ferry_volume_info_dispose(out);
  return r;
}

int lv_volumes(struct ferry_client *fc, struct ferry_volume_info **out,
               size_t *n)
{
  virStoragePoolPtr *pools = NULL;
  int count = virConnectListAllStoragePools(
      LV_CONN(fc), &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
  if (count < 0)
    return lv_error("list storage pools");
  struct ferry_volume_info *v = NULL;
  size_t k = 0;
  int r = 0;
  for (int i = 0; i < count; i++) {
    virStorageVolPtr *vols = NULL;
    int nv = r == 0 ? virStoragePoolListAllVolumes(pools[i], &vols, 0) : 0;
    if (nv < 0)
      r = lv_error("volumes of pool '%s'", virStoragePoolGetName(pools[i]));
    for (int j = 0; j < nv; j++) {
      struct ferry_volume_info *x = r == 0 ? ferry_volume_info_list_append(
                                                 &v, &k) : NULL;
      if (r == 0 && !x)
        r = ferry_error(ENOMEM, "out of memory");
      else if (r == 0 && (r = lv_vol_describe(virStoragePoolGetName(pools[i]),
                                            vols[j], x)) < 0)
        k--; /* the element appended, initialized and now disposed */
      virStorageVolFree(vols[j]);
    }
    free(vols);
    virStoragePoolFree(pools[i]);
  }
  free(pools);
  if (r < 0) {
    ferry_volume_info_list_free(v, k);
    return r;
  }
  *out = v;
  *n = k;
  return 0;
}
