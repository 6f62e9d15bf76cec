"""The CloudTower API 4.6.0 subset (spec/cloudtower-4.6.0-subset.json, an
OpenAPI 3.0 document) as the fake CloudTower uses it: every request it
serves is checked against the operation's request schema (a bad one gets
CloudTower's 400), its objects are made with every field the schema
requires, and its own tests check each response against the response
schema. OpenAPI's `nullable` becomes JSON Schema's null type here."""
import copy
import json
import os

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "spec", "cloudtower-4.6.0-subset.json")


def _nullable(node):
    """OpenAPI 3.0's nullable: true as anyOf [schema, null], throughout."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    def __init__(self, path=SPEC):
        with open(path) as f:
            self.doc = json.load(f)
        self.schemas = self.doc["components"]["schemas"]
        self.paths = self.doc["paths"]
        self._json = _nullable(self.doc)
        self._validators = {}

    # ---- validation

    def _validator(self, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            resolver = jsonschema.RefResolver.from_schema(self._json)
            self._validators[key] = jsonschema.Draft7Validator(
                _nullable(schema), resolver=resolver)
        return self._validators[key]

    def _errors(self, schema, value):
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: "
                f"{e.message}"
                for e in self._validator(schema).iter_errors(value)]

    def operation(self, path):
        op = self.paths.get(path, {})
        return op.get("post") or op.get("get")

    def request_errors(self, path, body):
        """What is wrong with a request body for path ([] when none)."""
        op = self.operation(path)
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        return self._errors(schema, body)

    def response_errors(self, path, status, body):
        op = self.operation(path)
        resp = op["responses"].get(str(status))
        if resp is None:
            return [f"{path}: no response {status} in the spec"]
        schema = resp["content"]["application/json"]["schema"]
        return self._errors(schema, body)

    # ---- objects

    def resolve(self, schema):
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        if "allOf" in schema:
            return self.resolve(schema["allOf"][0])
        return schema

    def _default(self, schema):
        s = self.resolve(schema)
        if "enum" in s:
            return s["enum"][0]
        t = s.get("type")
        if t == "string":
            return ""
        if t in ("integer", "number"):
            return 0
        if t == "boolean":
            return False
        if t == "array":
            return []
        if t == "object" or "properties" in s:
            return {k: self._default(s["properties"][k])
                    for k in s.get("required", [])}
        return None

    def make(self, name, /, **fields):
        """An object of schema name: fields, and a default for every other
        field the schema requires (the first enum value, 0, "", [])."""
        s = self.schemas[name]
        obj = {k: self._default(s["properties"][k])
               for k in s.get("required", []) if k not in fields}
        obj.update(copy.deepcopy(fields))
        return obj

    def enum(self, name):
        return self.resolve(self.schemas[name])["enum"]
