/* Internal: building SOAP requests and reading vSphere's replies.
 *
 * Replies are read namespace-aware: elements are matched by local name in
 * the urn:vim25 namespace (or none) and xsi:type by its namespace URI, never
 * by prefix, since servers differ ("xsi:type" vs "XMLSchema-instance:type").
 */
#ifndef FERRY_VMWARE_XML_H
#define FERRY_VMWARE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "../../core/sbuf.h"

/* <name type="T">V</name>: a managed object reference. */
void sb_moref(struct sbuf *b, const char *name, const char *type,
              const char *value);

/* The first child element (or next sibling, with xml_next) named name in
 * the vim25 namespace or none; name NULL matches any element. */
xmlNode *xml_child(const xmlNode *n, const char *name);
xmlNode *xml_next(const xmlNode *n, const char *name);
/* The path of child names separated by '/', e.g. "config/hardware". */
xmlNode *xml_path(const xmlNode *n, const char *path);
/* The text of the child at path, copied into buf; "" when absent. */
const char *xml_get(const xmlNode *n, const char *path, char *buf,
                    size_t len);
int64_t xml_int(const xmlNode *n, const char *path, int64_t dflt);
bool xml_bool(const xmlNode *n, const char *path);
/* xsi:type without its prefix ("VirtualDisk"), or "" when absent. */
const char *xml_type(const xmlNode *n, char *buf, size_t len);
/* The type attribute of a ManagedObjectReference element. */
const char *xml_moref_type(const xmlNode *n, char *buf, size_t len);

/* Replaces a standard object's string field with a copy of value ("" for
 * NULL): 0 or -ENOMEM (the callers report it). */
int vmw_set(char **field, const char *value);

#endif
