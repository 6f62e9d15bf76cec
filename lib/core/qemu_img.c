/* What qemu-img says of an image file (qemu_img.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qemu_img.h"
#include "run.h"

int qemu_img_info_json(const char *path, const char *format,
                       const char *what, json_object **out)
{
  char *argv[] = { "qemu-img", "info", "-U", "--output=json", "-f",
                   (char *)format, (char *)path, NULL };
  if (!format) /* no -f */
    argv[4] = (char *)path, argv[5] = NULL;
  char *text;
  int r = run_command(argv, &text);
  if (r < 0)
    return r;
  *out = json_tokener_parse(text);
  free(text);
  return *out ? 0 : ferry_error(EBADMSG, "%s: qemu-img info gave no JSON",
                                what);
}

bool qemu_img_list_has(json_object *list, const char *name)
{
  for (size_t i = 0; list && i < json_object_array_length(list); i++) {
    json_object *nm;
    if (json_object_object_get_ex(json_object_array_get_idx(list, i),
                                  "name", &nm) &&
        !strcmp(json_object_get_string(nm), name))
      return true;
  }
  return false;
}

int qemu_img_bitmap(const char *path, const char *op, const char *bitmap,
                    int granularity)
{
  char g[16];
  snprintf(g, sizeof g, "%d", granularity);
  char *add[] = { "qemu-img", "bitmap", "-f", "qcow2", (char *)op, "-g", g,
                  (char *)path, (char *)bitmap, NULL };
  char *other[] = { "qemu-img", "bitmap", "-f", "qcow2", (char *)op,
                    (char *)path, (char *)bitmap, NULL };
  return run_command(granularity > 0 && !strcmp(op, "--add") ? add : other,
                     NULL);
}

int qemu_img_has_bitmap(const char *path, const char *format,
                        const char *name, bool *has)
{
  *has = false;
  if (strcmp(format, "qcow2"))
    return 0; /* only qcow2 images keep bitmaps */
  json_object *j, *fs, *data, *bitmaps = NULL;
  int r = qemu_img_info_json(path, format, path, &j);
  if (r < 0)
    return r;
  if (json_object_object_get_ex(j, "format-specific", &fs) &&
      json_object_object_get_ex(fs, "data", &data))
    json_object_object_get_ex(data, "bitmaps", &bitmaps);
  *has = qemu_img_list_has(bitmaps, name);
  json_object_put(j);
  return 0;
}
