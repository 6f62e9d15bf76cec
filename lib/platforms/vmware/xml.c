/* SOAP request building and namespace-aware reading of replies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

#define VIM25_NS "urn:vim25"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

void sb_moref(struct sbuf *b, const char *name, const char *type,
              const char *value)
{
  sb_printf(b, "<%s type=\"", name);
  sb_esc(b, type);
  sb_printf(b, "\">");
  sb_esc(b, value);
  sb_printf(b, "</%s>", name);
}

static bool matches(const xmlNode *n, const char *name)
{
  if (n->type != XML_ELEMENT_NODE)
    return false;
  if (n->ns && n->ns->href && strcmp((const char *)n->ns->href, VIM25_NS))
    return false;
  return !name || !strcmp((const char *)n->name, name);
}

xmlNode *xml_next(const xmlNode *n, const char *name)
{
  for (n = n ? n->next : NULL; n; n = n->next)
    if (matches(n, name))
      return (xmlNode *)n;
  return NULL;
}

xmlNode *xml_child(const xmlNode *n, const char *name)
{
  if (!n)
    return NULL;
  for (const xmlNode *c = n->children; c; c = c->next)
    if (matches(c, name))
      return (xmlNode *)c;
  return NULL;
}

xmlNode *xml_path(const xmlNode *n, const char *path)
{
  char part[128];
  while (n && path && *path) {
    const char *slash = strchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : strlen(path);
    if (len >= sizeof part)
      return NULL;
    memcpy(part, path, len);
    part[len] = 0;
    n = xml_child(n, part);
    path = slash ? slash + 1 : NULL;
  }
  return (xmlNode *)n;
}

const char *xml_get(const xmlNode *n, const char *path, char *buf,
                    size_t len)
{
  buf[0] = 0;
  xmlNode *c = path && *path ? xml_path(n, path) : (xmlNode *)n;
  if (c) {
    xmlChar *t = xmlNodeGetContent(c);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
    xmlFree(t);
  }
  return buf;
}

int64_t xml_int(const xmlNode *n, const char *path, int64_t dflt)
{
  char buf[64], *end;
  if (!*xml_get(n, path, buf, sizeof buf))
    return dflt;
  long long v = strtoll(buf, &end, 10);
  return *end ? dflt : v;
}

bool xml_bool(const xmlNode *n, const char *path)
{
  char buf[16];
  return !strcmp(xml_get(n, path, buf, sizeof buf), "true");
}

const char *xml_type(const xmlNode *n, char *buf, size_t len)
{
  buf[0] = 0;
  if (!n)
    return buf;
  xmlChar *t = xmlGetNsProp(n, (const xmlChar *)"type",
                            (const xmlChar *)XSI_NS);
  if (t) {
    const char *colon = strchr((const char *)t, ':');
    snprintf(buf, len, "%s", colon ? colon + 1 : (const char *)t);
    xmlFree(t);
  }
  return buf;
}

const char *xml_moref_type(const xmlNode *n, char *buf, size_t len)
{
  buf[0] = 0;
  xmlChar *t = n ? xmlGetNoNsProp(n, (const xmlChar *)"type") : NULL;
  if (t) {
    snprintf(buf, len, "%s", (const char *)t);
    xmlFree(t);
  }
  return buf;
}

int vmw_set(char **field, const char *value)
{
  char *d = strdup(value ? value : "");
  if (!d)
    return -ENOMEM;
  free(*field);
  *field = d;
  return 0;
}
