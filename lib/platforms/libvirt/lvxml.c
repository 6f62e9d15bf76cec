/* Reading libvirt's XML with libxml2: elements by name, attributes, text
 * (libvirt's documents have no namespace but the test driver's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "../../core/error.h"
#include "lv.h"

int lv_xml_parse(const char *text, const char *what, xmlDoc **out)
{
  *out = text ? xmlReadMemory(text, (int)strlen(text), "libvirt.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING)
              : NULL;
  if (!*out || !xmlDocGetRootElement(*out)) {
    xmlFreeDoc(*out);
    *out = NULL;
    return ferry_error(EPROTO, "%s: libvirt's XML does not parse", what);
  }
  return 0;
}

int lv_xml_take(char *text, const char *what, xmlDoc **out)
{
  *out = NULL;
  if (!text)
    return lv_error("%s", what);
  int r = lv_xml_parse(text, what, out);
  free(text);
  return r;
}

static bool is(const xmlNode *n, const char *name)
{
  return n->type == XML_ELEMENT_NODE &&
         (!name || !strcmp((const char *)n->name, name));
}

xmlNode *lv_child(const xmlNode *n, const char *name)
{
  for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (is(c, name))
      return (xmlNode *)c;
  return NULL;
}

xmlNode *lv_next(const xmlNode *n, const char *name)
{
  for (n = n ? n->next : NULL; n; n = n->next)
    if (is(n, name))
      return (xmlNode *)n;
  return NULL;
}

const char *lv_attr(const xmlNode *n, const char *name, char *buf,
                    size_t len)
{
  buf[0] = '\0';
  xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
  if (v)
    snprintf(buf, len, "%s", (const char *)v);
  xmlFree(v);
  return buf;
}

const char *lv_text(const xmlNode *n, const char *child, char *buf,
                    size_t len)
{
  buf[0] = '\0';
  const xmlNode *c = child ? lv_child(n, child) : n;
  xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
  if (t)
    snprintf(buf, len, "%s", (const char *)t);
  xmlFree(t);
  return buf;
}

unsigned long long lv_size(const xmlNode *n, const char *child)
{
  static const struct { const char *unit; unsigned shift; } units[] = {
    { "b", 0 }, { "bytes", 0 }, { "k", 10 }, { "KiB", 10 }, { "M", 20 },
    { "MiB", 20 }, { "G", 30 }, { "GiB", 30 }, { "T", 40 }, { "TiB", 40 },
  };
  const xmlNode *c = lv_child(n, child);
  char num[64], unit[16], *end;
  if (!c || !*lv_text(c, NULL, num, sizeof num))
    return 0;
  unsigned long long v = strtoull(num, &end, 10);
  if (*end)
    return 0;
  lv_attr(c, "unit", unit, sizeof unit);
  if (!*unit) /* libvirt's default for memory and sizes alike */
    return strcmp(child, "memory") && strcmp(child, "currentMemory")
               ? v : v << 10;
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (!strcasecmp(unit, units[i].unit))
      return v << units[i].shift;
  return 0;
}
