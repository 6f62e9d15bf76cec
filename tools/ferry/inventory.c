/* ferry inventory: what a platform has, as standard objects. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "platform_cli.h"

static const char *s(const char *x) { return x ? x : "-"; }

/* Two ids are the same; NULL counts as "". */
static bool same(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

static bool host_listed(const struct ferry_host *h, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (same(h[i].id, id))
      return true;
  return false;
}

static void print_vm(const struct ferry_vm *vm, const char *indent)
{
  printf("%svm %-20s %-8s %" PRId64 " vCPU %6" PRIu64 " MiB  %zu disk%s "
         "%zu nic%s  %s\n", indent, s(vm->name),
         ferry_power_state_name(vm->power_state), vm->vcpus, vm->memory_mib,
         vm->n_disks, vm->n_disks == 1 ? " " : "s", vm->n_nics,
         vm->n_nics == 1 ? " " : "s", s(vm->uuid));
}

static const struct cli_command inventory_cmd = {
  .name = "inventory",
  .json = "{datacenters, clusters, hosts, vms, vlans, summary}: lists of datacenter, cluster, host, vm and vlan objects, and a vm_summary object",
  .about = "Lists the platform's datacenters, clusters, hosts, VMs and\n"
           "VLANs, with a summary of its VMs.\n",
  .common = CLI_PLATFORM_COMMAND | CLI_READS,
};

int cmd_inventory(int argc, char **argv)
{
  struct common_opts o;
  int rc;
  if (!cli_parse(&inventory_cmd, argc, argv, NULL, &o, &rc))
    return rc;
  client_t *c = platform_open(o.platform, &o);
  if (!c)
    return cli_fail(o.json, "inventory", EXIT_USAGE);
  struct ferry_datacenter *dc = NULL;
  struct ferry_cluster *cl = NULL;
  struct ferry_host *h = NULL;
  struct ferry_vm *vm = NULL;
  struct ferry_vlan *vl = NULL;
  size_t ndc = 0, ncl = 0, nh = 0, nvm = 0, nvl = 0;
  struct ferry_vm_summary sum;
  ferry_vm_summary_init(&sum);
  rc = EXIT_OK;
  if (ferry_datacenters(c, &dc, &ndc) < 0 || ferry_clusters(c, &cl, &ncl) < 0 ||
      ferry_hosts(c, &h, &nh) < 0 || ferry_vms(c, &vm, &nvm) < 0 ||
      ferry_vlans(c, &vl, &nvl) < 0 ||
      ferry_query_cluster_vm_summary(c, NULL, &sum) < 0) {
    rc = lib_fail(o.json, "inventory");
    goto out;
  }
  if (o.json) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "datacenters", LIST_TO_JSON(datacenter, dc, ndc));
    json_object_object_add(j, "clusters", LIST_TO_JSON(cluster, cl, ncl));
    json_object_object_add(j, "hosts", LIST_TO_JSON(host, h, nh));
    json_object_object_add(j, "vms", LIST_TO_JSON(vm, vm, nvm));
    json_object_object_add(j, "vlans", LIST_TO_JSON(vlan, vl, nvl));
    json_object_object_add(j, "summary", ferry_vm_summary_to_jsonc(&sum));
    json_print(j);
    goto out;
  }
  /* a tree: datacenter, cluster (or none: standalone hosts), host, VMs */
  for (size_t d = 0; d < ndc; d++) {
    printf("datacenter %s\n", s(dc[d].name));
    for (size_t k = 0; k <= ncl; k++) {
      const char *cid = k < ncl ? cl[k].id : "";
      if (k < ncl) {
        if (!same(cl[k].datacenter_id, dc[d].id))
          continue;
        printf("  cluster %s\n", s(cl[k].name));
      }
      for (size_t i = 0; i < nh; i++) {
        if (!same(h[i].datacenter_id, dc[d].id) || !same(h[i].cluster_id, cid))
          continue;
        printf("  %shost %s: %" PRId64 " CPUs, %" PRIu64 " MiB%s\n",
               k < ncl ? "  " : "", s(h[i].name), h[i].cpus,
               h[i].memory_mib, h[i].connected ? "" : ", disconnected");
        for (size_t v = 0; v < nvm; v++)
          if (same(vm[v].host_id, h[i].id))
            print_vm(&vm[v], k < ncl ? "      " : "    ");
      }
    }
  }
  for (size_t v = 0; v < nvm; v++) /* VMs on no listed host */
    if (!host_listed(h, nh, vm[v].host_id))
      print_vm(&vm[v], "  ");
  for (size_t i = 0; i < nvl; i++)
    if (vl[i].vlan_id < 0)
      printf("vlan %s (%s) untagged\n", s(vl[i].name), s(vl[i].id));
    else
      printf("vlan %s (%s) tag %" PRId64 "\n", s(vl[i].name), s(vl[i].id),
             vl[i].vlan_id);
  printf("%" PRId64 " VMs: %" PRId64 " running, %" PRId64 " paused, %" PRId64
         " stopped; %" PRId64 " vCPUs, %" PRIu64 " MiB\n", sum.total,
         sum.running, sum.paused, sum.stopped, sum.vcpus, sum.memory_mib);
out:
  ferry_datacenter_list_free(dc, ndc);
  ferry_cluster_list_free(cl, ncl);
  ferry_host_list_free(h, nh);
  ferry_vm_list_free(vm, nvm);
  ferry_vlan_list_free(vl, nvl);
  ferry_vm_summary_dispose(&sum);
  destroy_client(c);
  return rc;
}
