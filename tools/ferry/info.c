/* ferry info URI: size and allocation summary of a volume. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const struct cli_command info_cmd = {
  .name = "info",
  .json = "{uri, name, format, size, data_bytes, zero_bytes, hole_bytes, extents, multi_conn}",
  .about = "Prints a volume's size and how much of it is data, zero\n"
           "and unallocated (from SEEK_DATA or NBD block status).\n",
  .operands = (const struct cli_operand[]){
    { "URI", "the volume: a path or URI (see 'ferry --help')" },
    { NULL, NULL },
  },
};

int cmd_info(int argc, char **argv)
{
  struct common_opts c;
  int rc;
  if (!cli_parse(&info_cmd, argc, argv, NULL, &c, &rc))
    return rc;
  bool json = c.json;
  struct endpoint ep;
  int r = endpoint_open(argv[1], false, &ep);
  if (r < 0) {
    endpoint_close(&ep);
    return cli_fail(json, "info", r == -2 ? EXIT_USAGE : EXIT_FAILED);
  }
  struct ferry_volume *v = NULL;
  struct ferry_extent_info *ext = NULL;
  size_t n = 0;
  if (ferry_volume_open(ep.client, ep.volume, FERRY_OPEN_READ, &v) < 0 ||
      ferry_volume_extents(v, 0, ferry_volume_size(v), &ext, &n) < 0) {
    cli_error("%s", ferry_last_error());
    ferry_volume_close(v);
    endpoint_close(&ep);
    return cli_fail(json, "info", EXIT_FAILED);
  }
  uint64_t data = 0, zero = 0, hole = 0;
  for (size_t i = 0; i < n; i++) {
    if (ext[i].flags & FERRY_EXTENT_HOLE)
      hole += ext[i].length;
    else if (ext[i].flags & FERRY_EXTENT_ZERO)
      zero += ext[i].length;
    else
      data += ext[i].length;
  }
  int64_t size = ferry_volume_size(v);
  if (json) {
    json_object *j = json_object_new_object();
    json_object_object_add(j, "uri", json_object_new_string(ep.display));
    /* the volume's own name (a path, an export, a platform's volume id);
     * messages say more, with ferry_volume_name */
    json_object_object_add(j, "name", ep.volume[0] ?
                           json_object_new_string(ep.volume) : NULL);
    const char *format = ferry_volume_format(v);
    json_object_object_add(j, "format",
                           format ? json_object_new_string(format) : NULL);
    json_object_object_add(j, "size", json_object_new_int64(size));
    json_object_object_add(j, "data_bytes", json_object_new_uint64(data));
    json_object_object_add(j, "zero_bytes", json_object_new_uint64(zero));
    json_object_object_add(j, "hole_bytes", json_object_new_uint64(hole));
    json_object_object_add(j, "extents", json_object_new_uint64(n));
    json_object_object_add(j, "multi_conn",
        json_object_new_boolean(ferry_volume_can_multi_conn(v)));
    puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
  } else {
    char s[32], d[32], z[32], h[32];
    human_size(size, s, sizeof s);
    human_size(data, d, sizeof d);
    human_size(zero, z, sizeof z);
    human_size(hole, h, sizeof h);
    const char *format = ferry_volume_format(v);
    printf("volume:     %s\nformat:     %s\nsize:       %" PRId64 " (%s)\n"
           "data:       %s\nzero:       %s\nunallocated: %s\nextents:    %zu\n"
           "multi-conn: %s\n", ferry_volume_name(v), format ? format : "unknown",
           size, s, d, z, h, n,
           ferry_volume_can_multi_conn(v) ? "yes" : "no");
  }
  free(ext);
  ferry_volume_close(v);
  endpoint_close(&ep);
  return EXIT_OK;
}
