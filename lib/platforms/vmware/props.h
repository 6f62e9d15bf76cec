/* Internal: reading managed objects' properties with the PropertyCollector
 * (RetrievePropertiesEx, paged with ContinueRetrievePropertiesEx). */
#ifndef FERRY_VMWARE_PROPS_H
#define FERRY_VMWARE_PROPS_H

#include "session.h"

struct vobj {
  char type[48];
  char moref[MOREF_LEN];
  xmlNode *content; /* the ObjectContent element; its propSets */
};

struct vobjs {
  struct vreply *pages;
  size_t n_pages;
  struct vobj *v;
  size_t n;
};

/* Every object of type in the inventory, with the properties paths (NULL
 * terminated). Page size: FERRY_VSPHERE_PAGE_SIZE or 100 objects. */
int vprops_all(struct vsession *s, const char *type,
               const char *const *paths, struct vobjs *out);
/* One object's properties; -ENOENT when it does not exist. */
int vprops_one(struct vsession *s, const char *type, const char *moref,
               const char *const *paths, struct vobjs *out);
void vobjs_free(struct vobjs *o);

/* The val element of property name, or NULL when it is unset. */
xmlNode *vobj_prop(const struct vobj *o, const char *name);
/* The text of a property that is a string or moref; "" when unset. */
const char *vobj_str(const struct vobj *o, const char *name, char *buf,
                     size_t len);
/* The object with moref in objs, or NULL. */
const struct vobj *vobjs_find(const struct vobjs *objs, const char *moref);

#endif
