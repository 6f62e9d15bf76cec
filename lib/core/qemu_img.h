/* Internal: what qemu-img says of an image file (info, its bitmaps). */
#ifndef FERRY_CORE_QEMU_IMG_H
#define FERRY_CORE_QEMU_IMG_H

#include <stdbool.h>

#include <json-c/json.h>

/* `qemu-img info -U --output=json` of path in format (NULL: probed) as
 * JSON (the caller puts it); what names the image in messages. */
int qemu_img_info_json(const char *path, const char *format,
                       const char *what, json_object **out);
/* Whether a list of {"name": ...} objects (a bitmaps list of qemu-img's
 * or QMP's) has one named name. */
bool qemu_img_list_has(json_object *list, const char *name);
/* Whether the qcow2 image at path holds the dirty bitmap name (a raw
 * image holds none). */
int qemu_img_has_bitmap(const char *path, const char *format,
                        const char *name, bool *has);

/* `qemu-img bitmap OP` of bitmap in the qcow2 image at path (op
 * "--add", "--remove", "--enable", "--disable"); granularity (bytes, 0:
 * qemu-img's) for --add. */
int qemu_img_bitmap(const char *path, const char *op, const char *bitmap,
                    int granularity);

#endif
