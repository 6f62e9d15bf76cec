/* PropertyCollector reads over a ContainerView of the whole inventory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/error.h"
#include "props.h"
#include "xml.h"

void vobjs_free(struct vobjs *o)
{
  for (size_t i = 0; i < o->n_pages; i++)
    vreply_free(&o->pages[i]);
  free(o->pages);
  free(o->v);
  *o = (struct vobjs){ 0 };
}

/* Keeps a page and indexes its objects. */
static int take_page(struct vobjs *o, struct vreply *r, xmlNode *rv)
{
  struct vreply *p = realloc(o->pages, (o->n_pages + 1) * sizeof *p);
  if (!p)
    return ferry_error(ENOMEM, "out of memory");
  o->pages = p;
  o->pages[o->n_pages++] = *r;
  for (xmlNode *c = xml_child(rv, "objects"); c; c = xml_next(c, "objects")) {
    struct vobj *v = realloc(o->v, (o->n + 1) * sizeof *v);
    if (!v)
      return ferry_error(ENOMEM, "out of memory");
    o->v = v;
    struct vobj *x = &o->v[o->n++];
    xmlNode *obj = xml_child(c, "obj");
    xml_moref_type(obj, x->type, sizeof x->type);
    xml_get(obj, NULL, x->moref, sizeof x->moref);
    x->content = c;
  }
  return 0;
}

static int retrieve(struct vsession *s, const char *spec, struct vobjs *out)
{
  struct sbuf a = { 0 };
  sb_printf(&a, "<specSet>%s</specSet><options><maxObjects>%d</maxObjects>"
                "</options>", spec, s->page_size > 0 ? s->page_size : 100);
  struct vreply r;
  int rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                    : vsession_call(s, "RetrievePropertiesEx",
                                    "PropertyCollector",
                                    s->property_collector, a.s, &r);
  sb_free(&a);
  while (rc == 0) {
    xmlNode *rv = xml_child(r.ret, "returnval");
    char token[256];
    xml_get(rv, "token", token, sizeof token);
    if ((rc = take_page(out, &r, rv)) < 0) {
      vreply_free(&r);
      break;
    }
    if (!rv || !*token)
      break;
    struct sbuf t = { 0 };
    sb_elem(&t, "token", token);
    rc = t.failed ? ferry_error(ENOMEM, "out of memory")
                  : vsession_call(s, "ContinueRetrievePropertiesEx",
                                  "PropertyCollector", s->property_collector,
                                  t.s, &r);
    sb_free(&t);
  }
  if (rc < 0)
    vobjs_free(out);
  return rc;
}

static void prop_spec(struct sbuf *b, const char *type,
                      const char *const *paths)
{
  sb_printf(b, "<propSet>");
  sb_elem(b, "type", type);
  for (size_t i = 0; paths && paths[i]; i++)
    sb_elem(b, "pathSet", paths[i]);
  sb_printf(b, "</propSet>");
}

int vprops_all(struct vsession *s, const char *type,
               const char *const *paths, struct vobjs *out)
{
  *out = (struct vobjs){ 0 };
  struct sbuf a = { 0 };
  sb_moref(&a, "container", "Folder", s->root_folder);
  sb_elem(&a, "type", type);
  sb_printf(&a, "<recursive>true</recursive>");
  struct vreply r;
  int rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                    : vsession_call(s, "CreateContainerView", "ViewManager",
                                    s->view_manager, a.s, &r);
  sb_free(&a);
  if (rc < 0)
    return rc;
  char view[MOREF_LEN];
  xml_get(r.ret, "returnval", view, sizeof view);
  vreply_free(&r);
  prop_spec(&a, type, paths);
  sb_printf(&a, "<objectSet>");
  sb_moref(&a, "obj", "ContainerView", view);
  sb_printf(&a, "<skip>true</skip><selectSet xsi:type=\"TraversalSpec\">"
                "<name>view</name><type>ContainerView</type><path>view</path>"
                "<skip>false</skip></selectSet></objectSet>");
  rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                : retrieve(s, a.s, out);
  sb_free(&a);
  /* Best effort, keeping the first error: a view left behind ends with
   * the session. */
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", rc < 0 && ferry_last_error()
                                      ? ferry_last_error() : "");
  if (vsession_call(s, "DestroyView", "ContainerView", view, NULL, &r) == 0)
    vreply_free(&r);
  if (rc < 0)
    return ferry_error(-rc, "%s", msg);
  ferry_error_clear();
  return 0;
}

int vprops_one(struct vsession *s, const char *type, const char *moref,
               const char *const *paths, struct vobjs *out)
{
  *out = (struct vobjs){ 0 };
  struct sbuf a = { 0 };
  prop_spec(&a, type, paths);
  sb_printf(&a, "<objectSet>");
  sb_moref(&a, "obj", type, moref);
  sb_printf(&a, "<skip>false</skip></objectSet>");
  int rc = a.failed ? ferry_error(ENOMEM, "out of memory")
                    : retrieve(s, a.s, out);
  sb_free(&a);
  if (rc == 0 && out->n == 0) {
    vobjs_free(out);
    rc = ferry_error(ENOENT, "vSphere has no %s '%s'", type, moref);
  }
  return rc;
}

xmlNode *vobj_prop(const struct vobj *o, const char *name)
{
  char buf[200];
  for (xmlNode *p = xml_child(o->content, "propSet"); p;
       p = xml_next(p, "propSet"))
    if (!strcmp(xml_get(p, "name", buf, sizeof buf), name))
      return xml_child(p, "val");
  return NULL;
}

const char *vobj_str(const struct vobj *o, const char *name, char *buf,
                     size_t len)
{
  return xml_get(vobj_prop(o, name), NULL, buf, len);
}

const struct vobj *vobjs_find(const struct vobjs *objs, const char *moref)
{
  for (size_t i = 0; i < objs->n; i++)
    if (!strcmp(objs->v[i].moref, moref))
      return &objs->v[i];
  return NULL;
}
