#!/usr/bin/env python3
"""Generates C structs and their JSON/init/dispose/copy functions from an IDL.

Usage:
  gentypes.py IDL --header OUT.h --source OUT.c --include ferry/types.h
              --engine /path/to/object.h [--guard FERRY_TYPES_H]
  gentypes.py IDL --pod OUT.pod    (the objects' JSON keys, for man pages)
  --prefix NAME_ changes the ferry_ of every generated name.

The IDL format is described at the top of lib/types/types.idl. The header
holds the types and prototypes; the source holds one field table per struct
and one-line wrappers over the generic engine (object.h), so no type has a
hand-written serializer. Python 3 standard library only.
"""

import argparse
import re
import sys

PREFIX = "ferry_"
SCALARS = {"string": "char *", "bool": "bool", "int64": "int64_t",
           "uint64": "uint64_t"}
IDENT = re.compile(r"[a-z][a-z0-9_]*\Z")
FIELD = re.compile(r"(\w+)\s+(\[\w+\]|\w+)(?:\s*=\s*(\S+))?\Z")
C_WORDS = set("""auto bool break case char const continue default do double
  else enum extern float for goto if inline int long register restrict return
  short signed sizeof static struct switch typedef union unsigned void
  volatile while""".split())


class IdlError(Exception):
    pass


class Enum:
    def __init__(self, name, values, doc, line):
        self.name, self.values, self.doc, self.line = name, values, doc, line


class Field:
    def __init__(self, name, type_, default, above, trailing, line):
        self.name, self.type, self.default = name, type_, default
        self.above, self.trailing, self.line = above, trailing, line
        self.array = type_.startswith("[")
        self.elem = type_.strip("[]")


class Struct:
    def __init__(self, name, doc, line):
        self.name, self.doc, self.line, self.fields = name, doc, line, []


# ---------------------------------------------------------------- parsing

def check_ident(name, what, line):
    if not IDENT.match(name) or name in C_WORDS:
        raise IdlError(f"{line}: bad {what} name '{name}'")


def check_doc(text, line):
    for bad in ("*/", "/*"):
        if bad in text:
            raise IdlError(f"{line}: a comment may not contain '{bad}'")
    return text


def parse(text):
    """Returns the declarations (Enum and Struct) in file order."""
    decls, doc, cur = [], [], None
    for n, raw in enumerate(text.splitlines(), 1):
        body, _, comment = raw.partition("#")
        comment = check_doc(comment.strip(), n)
        indented = raw[:1] in (" ", "\t")
        if not body.strip():
            if raw.strip():
                doc.append(comment)          # a comment line: doc for next
            else:
                doc = []                     # a blank line ends a doc block
            continue
        words = body.split()
        if indented:
            if cur is None:
                raise IdlError(f"{n}: indented line outside a struct")
            m = FIELD.match(" ".join(words))
            if not m:
                raise IdlError(f"{n}: expected 'FIELD TYPE [= DEFAULT]'")
            cur.fields.append(Field(m[1], m[2], m[3], doc, comment, n))
        elif words[0] == "struct" and len(words) == 2:
            cur = Struct(words[1], doc + ([comment] if comment else []), n)
            decls.append(cur)
        elif words[0] == "enum" and len(words) > 1 and \
                words[1].endswith(":"):
            cur = None
            decls.append(Enum(words[1][:-1], words[2:],
                              doc + ([comment] if comment else []), n))
        else:
            raise IdlError(f"{n}: expected 'struct NAME' or "
                           f"'enum NAME: VALUE ...'")
        doc = []
    return decls


# ---------------------------------------------------------------- checks

def check_default(f, kinds):
    d, t = f.default, f.type
    if d is None:
        return
    where = f"{f.line}: default of '{f.name}'"
    if t == "bool":
        if d not in ("true", "false"):
            raise IdlError(f"{where}: expected true or false")
    elif t in ("int64", "uint64"):
        try:
            v = int(d, 0)
        except ValueError:
            raise IdlError(f"{where}: '{d}' is not an integer") from None
        lo, hi = (-2**63, 2**63 - 1) if t == "int64" else (0, 2**64 - 1)
        if not lo <= v <= hi:
            raise IdlError(f"{where}: {d} is out of range for {t}")
    elif isinstance(kinds.get(t), Enum):
        if d not in kinds[t].values:
            raise IdlError(f"{where}: '{d}' is not a value of {t}")
    else:
        raise IdlError(f"{where}: only bool, integers and enums have "
                       f"defaults")


def check(decls):
    kinds = {}                                # name -> Enum or Struct
    for d in decls:
        kind = "enum" if isinstance(d, Enum) else "struct"
        check_ident(d.name, kind, d.line)
        if d.name in kinds or d.name in SCALARS:
            raise IdlError(f"{d.line}: '{d.name}' is declared twice")
        if isinstance(d, Enum):
            if not d.values:
                raise IdlError(f"{d.line}: enum {d.name} has no values")
            for v in d.values:
                check_ident(v, "enum value", d.line)
            if len(set(d.values)) != len(d.values):
                raise IdlError(f"{d.line}: enum {d.name} repeats a value")
        else:
            if not d.fields:
                raise IdlError(f"{d.line}: struct {d.name} has no fields")
            names = set()
            for f in d.fields:
                check_ident(f.name, "field", f.line)
                if f.elem not in SCALARS and f.elem not in kinds:
                    if any(x.name == f.elem for x in decls):
                        raise IdlError(f"{f.line}: struct '{f.elem}' is used "
                                       f"before it is declared")
                    raise IdlError(f"{f.line}: type '{f.elem}' is unknown")
                if f.array and f.elem != "string" and \
                        not isinstance(kinds.get(f.elem), Struct):
                    raise IdlError(f"{f.line}: arrays hold strings or "
                                   f"structs, not '{f.elem}'")
                if f.array and f.default is not None:
                    raise IdlError(f"{f.line}: arrays have no default")
                check_default(f, kinds)
                own = [f.name] + (["n_" + f.name] if f.array else [])
                for name in own:
                    if name in names:
                        raise IdlError(f"{f.line}: field '{name}' clashes "
                                       f"with another field of {d.name}")
                    names.add(name)
        kinds[d.name] = d
    seen = {}
    for d in decls:
        for sym in symbols(d):
            if sym in seen:
                raise IdlError(f"{d.line}: {sym} would be "
                               f"generated twice (also line {seen[sym]})")
            seen[sym] = d.line
    return kinds


# ---------------------------------------------------------------- naming

def ctype(t, kinds):
    if t in SCALARS:
        return SCALARS[t]
    return ("enum " if isinstance(kinds[t], Enum) else "struct ") + PREFIX + t


def symbols(d):
    p = PREFIX + d.name
    if isinstance(d, Enum):
        consts = [f"{p}_{v}".upper() for v in d.values + ["count"]]
        return [p + "_name", p + "_parse"] + consts
    out = [p + s for s in ("_init", "_dispose", "_copy", "_equal", "_to_json",
                           "_from_json", "_to_jsonc", "_from_jsonc",
                           "_list_free", "_list_append", "_list_to_json",
                           "_list_from_json")]
    return out + [f"{p}_{f.name}_append" for f in d.fields if f.array]


def wrap(sig, end=";"):
    """Breaks a long prototype after its commas, aligned on the '('."""
    line = sig + end
    if len(line) <= 79:
        return line
    head, _, args = sig.partition("(")
    pad = " " * (len(head) + 1)
    return head + "(" + (",\n" + pad).join(args.split(", ")) + end


def comment(lines, indent=""):
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{indent}/* {lines[0]} */\n"
    body = f"\n{indent} * ".join(lines)
    return f"{indent}/* {body} */\n".replace(" \n", "\n")


# ---------------------------------------------------------------- header

def header_enum(e):
    up = (PREFIX + e.name).upper()
    t = f"enum {PREFIX}{e.name}"
    vals = "".join(f"  {up}_{v.upper()} = {i},\n"
                   for i, v in enumerate(e.values))
    return (comment(e.doc) + f"{t} {{\n{vals}}};\n"
            f"#define {up}_COUNT {len(e.values)}\n"
            f"/* The value's name (\"{e.values[0]}\"), or NULL if out of "
            f"range. */\n"
            f"const char *{PREFIX}{e.name}_name({t} v);\n"
            f"/* Case-insensitive; 0, or -EINVAL naming the accepted "
            f"values. */\n"
            f"int {PREFIX}{e.name}_parse(const char *s, {t} *v);\n")


def header_struct(s, kinds):
    rows = []                 # (comment lines above, member, trailing)
    for f in s.fields:
        text = f.trailing
        if f.array:
            star = "*" if f.elem != "string" else "**"
            base = ctype(f.elem, kinds).rstrip(" *") if f.elem != "string" \
                else "char"
            rows.append((f.above, f"{base} {star}{f.name};", text))
            rows.append(([], f"size_t n_{f.name};", ""))
        else:
            c = ctype(f.type, kinds)
            sep = "" if c.endswith("*") else " "
            if f.default is not None:
                note = f"default {f.default}"
                text = f"{text} ({note})" if text else note
            rows.append((f.above, f"{c}{sep}{f.name};", text))
    width = max(len(r[1]) for r in rows) + 1
    body = "".join(comment(a, "  ") + (f"  {d:<{width}}/* {t} */\n" if t
                                       else f"  {d}\n")
                   for a, d, t in rows)
    t = f"struct {PREFIX}{s.name}"
    p = PREFIX + s.name
    protos = [
        f"void {p}_init({t} *p);",
        f"void {p}_dispose({t} *p);",
        f"int {p}_copy({t} *dst, const {t} *src);",
        f"bool {p}_equal(const {t} *a, const {t} *b);",
        f"char *{p}_to_json(const {t} *p);",
        f"int {p}_from_json({t} *p, const char *s);",
        f"struct json_object *{p}_to_jsonc(const {t} *p);",
        f"int {p}_from_jsonc({t} *p, struct json_object *j);",
        f"void {p}_list_free({t} *v, size_t n);",
        f"{t} *{p}_list_append({t} **v, size_t *n);",
        f"char *{p}_list_to_json(const {t} *v, size_t n);",
        f"int {p}_list_from_json({t} **v, size_t *n, const char *s);",
    ]
    for f in s.fields:
        if f.array and f.elem == "string":
            protos.append(f"int {p}_{f.name}_append({t} *p, const char *s);")
        elif f.array:
            protos.append(f"{ctype(f.elem, kinds)} *{p}_{f.name}_append"
                          f"({t} *p);")
    return (comment(s.doc) + f"{t} {{\n{body}}};\n"
            + "".join(wrap(x[:-1]) + "\n" for x in protos))


def header(decls, kinds, guard, idl_name):
    parts = [header_enum(d) if isinstance(d, Enum)
             else header_struct(d, kinds) for d in decls]
    return (f"/* Generated by gentypes.py from {idl_name}: do not edit.\n"
            f" * The conventions are documented in <ferry/objects.h>. */\n"
            f"#ifndef {guard}\n#define {guard}\n\n"
            "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n"
            "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
            "/* json-c's object; declared here so that including this header\n"
            " * needs json-c's headers only for the *_jsonc functions. */\n"
            "struct json_object;\n\n"
            + "\n".join(parts) +
            f"\n#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {guard} */\n")


# ---------------------------------------------------------------- source

KIND = {"string": "FERRY_KIND_STRING", "bool": "FERRY_KIND_BOOL",
        "int64": "FERRY_KIND_INT64", "uint64": "FERRY_KIND_UINT64"}


def table_row(s, f, kinds):
    st = f"struct {PREFIX}{s.name}"
    items = [f'.name = "{f.name}"']
    if f.array:
        kind = "FERRY_KIND_STRING_ARRAY" if f.elem == "string" \
            else "FERRY_KIND_STRUCT_ARRAY"
        items.append(f".count_offset = offsetof({st}, n_{f.name})")
    elif f.type in KIND:
        kind = KIND[f.type]
    elif isinstance(kinds[f.type], Enum):
        kind = "FERRY_KIND_ENUM"
        items.append(f".enm = &{f.type}_desc")
    else:
        kind = "FERRY_KIND_STRUCT"
    if kind in ("FERRY_KIND_STRUCT", "FERRY_KIND_STRUCT_ARRAY"):
        items.append(f".type = &{f.elem}_desc")
    items[1:1] = [f".kind = {kind}", f".offset = offsetof({st}, {f.name})"]
    if f.default is not None:
        if f.type == "bool":
            items.append(f".init = {1 if f.default == 'true' else 0}")
        elif f.type == "uint64":
            items.append(f".init_u = UINT64_C({int(f.default, 0)})")
        elif f.type == "int64":
            v = int(f.default, 0)
            # INT64_MIN has no literal: write it as an expression.
            items.append(".init = INT64_MIN" if v == -2**63
                         else f".init = INT64_C({v})")
        else:
            up = (PREFIX + f.type + "_" + f.default).upper()
            items.append(f".init = {up}")
    return "  { " + ", ".join(items) + " },\n"


def source_enum(e):
    t, p = f"enum {PREFIX}{e.name}", PREFIX + e.name
    names = ", ".join(f'"{v}"' for v in e.values)
    return (f"_Static_assert(sizeof({t}) == sizeof(int),\n"
            f"               \"the engine stores enums as int\");\n"
            f"static const char *const {e.name}_values[] = {{ {names} }};\n"
            f"static const struct ferry_enum_desc {e.name}_desc = {{\n"
            f"  \"{e.name}\", {e.name}_values, {len(e.values)}\n}};\n\n"
            f"const char *{p}_name({t} v)\n"
            f"{{\n  return ferry_enum_name(&{e.name}_desc, (int)v);\n}}\n\n"
            f"int {p}_parse(const char *s, {t} *v)\n{{\n"
            f"  int i;\n  int r = ferry_enum_parse(&{e.name}_desc, s, &i);\n"
            f"  if (r == 0)\n    *v = ({t})i;\n  return r;\n}}\n")


def source_struct(s, kinds):
    t, p, d = f"struct {PREFIX}{s.name}", PREFIX + s.name, f"&{s.name}_desc"
    rows = "".join(table_row(s, f, kinds) for f in s.fields)
    out = (f"static const struct ferry_field_desc {s.name}_fields[] = {{\n"
           f"{rows}}};\n"
           f"static const struct ferry_type_desc {s.name}_desc = {{\n"
           f"  \"{s.name}\", sizeof({t}), {s.name}_fields, "
           f"{len(s.fields)}\n}};\n\n")
    fns = [
        (f"void {p}_init({t} *p)", f"ferry_obj_init({d}, p);"),
        (f"void {p}_dispose({t} *p)", f"ferry_obj_dispose({d}, p);"),
        (f"int {p}_copy({t} *dst, const {t} *src)",
         f"return ferry_obj_copy({d}, dst, src);"),
        (f"bool {p}_equal(const {t} *a, const {t} *b)",
         f"return ferry_obj_equal({d}, a, b);"),
        (f"char *{p}_to_json(const {t} *p)",
         f"return ferry_obj_to_json({d}, p);"),
        (f"int {p}_from_json({t} *p, const char *s)",
         f"return ferry_obj_from_json({d}, p, s);"),
        (f"struct json_object *{p}_to_jsonc(const {t} *p)",
         f"return ferry_obj_to_jsonc({d}, p);"),
        (f"int {p}_from_jsonc({t} *p, struct json_object *j)",
         f"return ferry_obj_from_jsonc({d}, p, j);"),
        (f"void {p}_list_free({t} *v, size_t n)",
         f"ferry_obj_list_free({d}, v, n);"),
        (f"{t} *{p}_list_append({t} **v, size_t *n)",
         f"return ferry_obj_list_append({d}, (void **)v, n);"),
        (f"char *{p}_list_to_json(const {t} *v, size_t n)",
         f"return ferry_obj_list_to_json({d}, v, n);"),
        (f"int {p}_list_from_json({t} **v, size_t *n, const char *s)",
         f"return ferry_obj_list_from_json({d}, (void **)v, n, s);"),
    ]
    for i, f in enumerate(s.fields):
        fd = f"&{s.name}_fields[{i}]"
        if f.array and f.elem == "string":
            fns.append((f"int {p}_{f.name}_append({t} *p, const char *s)",
                        f"return ferry_obj_strings_append({fd}, p, s);"))
        elif f.array:
            fns.append((f"{ctype(f.elem, kinds)} *{p}_{f.name}_append({t} *p)",
                        f"return ferry_obj_array_append({fd}, p);"))
    return out + "\n".join(f"{wrap(sig, '')}\n{{\n  {body}\n}}\n"
                            for sig, body in fns)


def source(decls, kinds, include, engine, idl_name):
    parts = [source_enum(d) if isinstance(d, Enum)
             else source_struct(d, kinds) for d in decls]
    return (f"/* Generated by gentypes.py from {idl_name}: do not edit.\n"
            f" * Field tables and wrappers over the generic engine. */\n"
            f"#include <stddef.h>\n#include <stdint.h>\n\n"
            f"#include <{include}>\n\n#include \"{engine}\"\n\n"
            + "\n".join(parts))


# ---------------------------------------------------------------- POD

def pod_escape(text):
    return "".join({"<": "E<lt>", ">": "E<gt>"}.get(c, c) for c in text)


def json_type(t, kinds):
    """A field's type as its JSON reads: "string or null", "vm object"..."""
    if t.startswith("["):
        return f"list of {json_type(t.strip('[]'), kinds).split(' or ')[0]}"
    if t == "string":
        return "string or null"
    if t == "bool":
        return "boolean"
    if t in ("int64", "uint64"):
        return "integer"
    if isinstance(kinds.get(t), Enum):
        return "one of " + ", ".join(kinds[t].values)
    return f"I<{t}> object"


def pod(decls, kinds, name):
    """A "STANDARD OBJECTS" section: each struct's JSON keys, in order."""
    out = [f"=head1 STANDARD OBJECTS\n\n(Generated from {name}.) Each "
           "object is a JSON object with exactly these keys, in this order; "
           "a string that is none is null, and a list that is empty is "
           "[].\n"]
    for d in decls:
        if not isinstance(d, Struct):
            continue
        out.append(f"=head2 {d.name}\n")
        if d.doc:
            out.append(pod_escape(" ".join(x for x in d.doc if x)) + "\n")
        out.append("=over 4\n")
        for f in d.fields:
            about = " ".join(x for x in f.above + [f.trailing] if x)
            text = f"({json_type(f.type, kinds)})"
            if about:
                text += " " + pod_escape(about)
            out.append(f"=item B<{f.name}>\n\n{text}\n")
        out.append("=back\n")
    return "\n".join(out)


# ---------------------------------------------------------------- main

def main():
    global PREFIX  # set once from the command line, before any output
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("idl")
    ap.add_argument("--header")
    ap.add_argument("--source")
    ap.add_argument("--pod")
    ap.add_argument("--include", default="ferry/types.h",
                    help="how the source includes the header")
    ap.add_argument("--engine", default="object.h",
                    help="path of the engine's header, for the source")
    ap.add_argument("--guard", default="FERRY_TYPES_H")
    ap.add_argument("--prefix", default="ferry_",
                    help="of every generated name (tests use their own)")
    a = ap.parse_args()
    PREFIX = a.prefix
    name = a.idl.rsplit("/", 1)[-1]
    try:
        with open(a.idl, encoding="utf-8") as fp:
            decls = parse(fp.read())
        kinds = check(decls)
    except IdlError as e:
        sys.exit(f"{a.idl}:{e}")
    except OSError as e:
        sys.exit(f"gentypes.py: {e}")
    if not a.header and not a.source and not a.pod:
        ap.error("nothing to do: give --header, --source or --pod")
    if a.pod:
        with open(a.pod, "w", encoding="utf-8") as fp:
            fp.write(pod(decls, kinds, name))
    if a.header:
        with open(a.header, "w", encoding="utf-8") as fp:
            fp.write(header(decls, kinds, a.guard, name))
    if a.source:
        with open(a.source, "w", encoding="utf-8") as fp:
            fp.write(source(decls, kinds, a.include, a.engine, name))


if __name__ == "__main__":
    main()
