/* libFuzzer: vSphere SOAP replies (session.c's reply parser and the xml.c
 * helpers that read inventory out of it). */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "../../lib/platforms/vmware/session.h"
#include "../../lib/platforms/vmware/xml.h"

static void walk(const xmlNode *n, int depth)
{
  char buf[256];
  for (const xmlNode *c = xml_child(n, NULL); c && depth < 64;
       c = xml_next(c, NULL)) {
    xml_type(c, buf, sizeof buf);
    xml_moref_type(c, buf, sizeof buf);
    xml_get(c, "name", buf, sizeof buf);
    xml_int(c, "config/hardware/numCPU", 0);
    xml_bool(c, "val");
    xml_path(c, "propSet/val");
    walk(c, depth + 1);
  }
}

static void quiet(void *ctx, const char *msg, ...)
{
  (void)ctx;
  (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  xmlSetGenericErrorFunc(NULL, quiet);
  struct vreply r = { 0 };
  char fault[80];
  if (vreply_parse((const char *)data, size, "Fuzz", "fuzz", 200, &r, fault,
                   sizeof fault) == 0) {
    walk(r.ret, 0);
    vreply_free(&r);
  }
  return 0;
}
