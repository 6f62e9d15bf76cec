/* Every field kind and default, through the test-only IDL kinds.idl
 * (generated with prefix kt_): nested structs by value, arrays of strings,
 * defaults at the integer limits, errors deep inside. */
#include "check_types.h"
#include "kinds.h"

#define POINT_INIT "{\"x\":-5,\"y\":18446744073709551615,\"label\":null}"

static void defaults(void)
{
  struct kt_shape s;
  kt_shape_init(&s);
  CHECK(s.color == KT_COLOR_BLUE && s.visible);
  CHECK(s.center.x == -5 && s.center.y == UINT64_MAX);
  CHECK(s.low == INT64_MIN && s.high == 16);
  CHECK(s.tags == NULL && s.n_tags == 0 && s.corners == NULL);
  char *t = kt_shape_to_json(&s);
  CHECK_STR(t, "{\"name\":null,\"color\":\"blue\",\"visible\":true,"
               "\"center\":" POINT_INIT ",\"corners\":[],\"tags\":[],"
               "\"low\":-9223372036854775808,\"high\":16}");
  free(t);

  /* Missing keys, nested ones too, keep their defaults. */
  CHECK(kt_shape_from_json(&s, "{\"center\":{\"label\":\"c\"},"
                               "\"corners\":[{\"x\":1}]}") == 0);
  CHECK(s.center.x == -5 && !strcmp(s.center.label, "c"));
  CHECK(s.n_corners == 1 && s.corners[0].x == 1);
  CHECK(s.corners[0].y == UINT64_MAX && s.visible);
  kt_shape_dispose(&s);
  CHECK(kt_shape_from_json(&s, "{\"center\":null}") == 0);
  CHECK(s.center.x == -5);
  kt_shape_dispose(&s);
}

#define DRAWING                                                              \
  "{\"title\":\"t\",\"frame\":{\"name\":\"f\",\"color\":\"red\","            \
  "\"visible\":false,\"center\":{\"x\":1,\"y\":2,\"label\":\"mid\"},"        \
  "\"corners\":[{\"x\":0,\"y\":0,\"label\":null}],"                          \
  "\"tags\":[\"a\",null,\"\"],\"low\":0,\"high\":0},"                        \
  "\"shapes\":[{\"name\":\"s\",\"color\":\"green\",\"visible\":true,"        \
  "\"center\":" POINT_INIT ",\"corners\":[],\"tags\":[\"x\"],"               \
  "\"low\":1,\"high\":2}]}"

static void nested(void)
{
  struct kt_drawing d, e;
  CHECK(kt_drawing_from_json(&d, DRAWING) == 0);
  CHECK(d.frame.color == KT_COLOR_RED && !d.frame.visible);
  CHECK_STR(d.frame.center.label, "mid");
  CHECK(d.frame.n_tags == 3 && d.frame.tags[1] == NULL);
  CHECK_STR(d.frame.tags[2], "");
  CHECK(d.n_shapes == 1 && d.shapes[0].color == KT_COLOR_GREEN);
  char *t = kt_drawing_to_json(&d);
  CHECK_STR(t, DRAWING);
  free(t);

  CHECK(kt_drawing_copy(&e, &d) == 0);
  CHECK(kt_drawing_equal(&d, &e));
  CHECK(e.frame.tags != d.frame.tags && e.frame.tags[0] != d.frame.tags[0]);
  CHECK(e.frame.center.label != d.frame.center.label);
  kt_drawing_dispose(&d);
  t = kt_drawing_to_json(&e);
  CHECK_STR(t, DRAWING);
  free(t);

  e.frame.center.y = 3; /* a difference deep inside a nested struct */
  CHECK(kt_drawing_from_json(&d, DRAWING) == 0);
  CHECK(!kt_drawing_equal(&d, &e));
  e.frame.center.y = 2;
  CHECK(kt_drawing_equal(&d, &e));
  free(e.shapes[0].tags[0]);
  e.shapes[0].tags[0] = NULL;
  CHECK(!kt_drawing_equal(&d, &e));
  kt_drawing_dispose(&d);
  kt_drawing_dispose(&e);
  kt_drawing_dispose(&e);
}

static void string_arrays(void)
{
  struct kt_shape s;
  kt_shape_init(&s);
  CHECK(kt_shape_tags_append(&s, "one") == 0);
  CHECK(kt_shape_tags_append(&s, NULL) == 0);
  CHECK(kt_shape_tags_append(&s, "three") == 0);
  CHECK(s.n_tags == 3 && s.tags[1] == NULL);
  char *t = kt_shape_to_json(&s);
  CHECK_HAS(t, "\"tags\":[\"one\",null,\"three\"]");
  struct kt_shape back;
  CHECK(kt_shape_from_json(&back, t) == 0);
  CHECK(kt_shape_equal(&s, &back));
  free(t);
  kt_shape_dispose(&back);
  kt_shape_dispose(&s);
}

/* Paths through nested structs and arrays at several levels. */
static void deep_errors(void)
{
  struct kt_drawing d;
  CHECK_EINVAL(kt_drawing_from_json(&d, "{\"frame\":{\"center\":{\"x\":"
                                        "\"1\"}}}"),
               "frame.center.x: expected an integer, got a string");
  CHECK_EINVAL(kt_drawing_from_json(&d, "{\"shapes\":[{},{\"corners\":[{},"
                                        "{\"y\":-2}]}]}"),
               "shapes[1].corners[1].y: expected an unsigned integer, "
               "got -2");
  CHECK_EINVAL(kt_drawing_from_json(&d, "{\"shapes\":[{\"tags\":[\"a\","
                                        "3]}]}"),
               "shapes[0].tags[1]: expected a string or null, got an "
               "integer");
  CHECK_EINVAL(kt_drawing_from_json(&d, "{\"frame\":[]}"),
               "frame: expected an object, got an array");
  CHECK_EINVAL(kt_drawing_from_json(&d, "{\"frame\":{\"color\":\"pink\"}}"),
               "frame.color: unknown color 'pink' (expected red, green or "
               "blue)");
  CHECK(d.frame.color == KT_COLOR_BLUE && d.title == NULL);

  kt_drawing_init(&d);
  d.frame.color = (enum kt_color)7;
  CHECK(kt_drawing_to_json(&d) == NULL);
  CHECK_HAS(ferry_last_error(), "frame.color: 7 is not a color value");
  d.frame.color = KT_COLOR_RED;
  struct kt_shape *s = kt_drawing_shapes_append(&d);
  CHECK(kt_shape_tags_append(s, "x") == 0);
  free(s->tags[0]);
  free(s->tags);
  s->tags = NULL; /* a count without an array, deep down */
  CHECK(kt_drawing_to_json(&d) == NULL);
  CHECK_HAS(ferry_last_error(), "shapes[0].tags: NULL array with 1 elements");
  struct kt_drawing c;
  CHECK_EINVAL(kt_drawing_copy(&c, &d), "shapes[0].tags: NULL array");
  s->n_tags = 0;
  kt_drawing_dispose(&d);
}

int main(void)
{
  defaults();
  nested();
  string_arrays();
  deep_errors();
  return 0;
}
