"""The fake CloudTower's objects, by schema name, and the query language of
its get-* operations (Prisma 1 style, as CloudTower's guide describes it):
`where` with equality, _not, _in, _not_in, _lt/_lte/_gt/_gte, the string
matches, relations nested ({"vm": {"id": ...}}), to-many relations with
_some/_every/_none, AND/OR/NOT; `orderBy` FIELD_ASC|FIELD_DESC; paging
with first/skip/after/before/last."""
import random
import string
import threading

# a relation's field, the schema of what it points at
RELATIONS = {
    "vm": "Vm", "vms": "Vm", "cluster": "Cluster", "clusters": "Cluster",
    "host": "Host", "hosts": "Host", "datacenters": "Datacenter",
    "vm_volume": "VmVolume", "vm_disks": "VmDisk", "vm_nics": "VmNic",
    "vlan": "Vlan", "vds": "Vds", "lun": "IscsiLun", "luns": "IscsiLun",
    "iscsi_lun": "IscsiLun", "iscsi_target": "IscsiTarget",
    "snapshots": "VmSnapshot",
}

# longest first: "name_not_in" is name + _not_in, not name_not + _in
OPS = sorted(["_not_in", "_in", "_not", "_lt", "_lte", "_gt", "_gte",
              "_contains", "_not_contains", "_starts_with",
              "_not_starts_with", "_ends_with", "_not_ends_with", "_some",
              "_every", "_none"], key=len, reverse=True)


def cuid():
    """An id in CloudTower's shape (a CUID: 25 lowercase letters and
    digits, starting with c)."""
    return "c" + "".join(random.choices(string.ascii_lowercase +
                                        string.digits, k=24))


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.objects = {}  # schema name -> {id: object}

    def add(self, kind, obj):
        with self.lock:
            self.objects.setdefault(kind, {})[obj["id"]] = obj
            return obj

    def get(self, kind, oid):
        return self.objects.get(kind, {}).get(oid)

    def remove(self, kind, oid):
        with self.lock:
            return self.objects.get(kind, {}).pop(oid, None)

    def all(self, kind):
        return list(self.objects.get(kind, {}).values())

    # ---- queries

    def _related(self, field, ref):
        kind = RELATIONS.get(field)
        if kind and isinstance(ref, dict) and "id" in ref:
            return self.get(kind, ref["id"]) or ref
        return ref

    def matches(self, obj, where):
        for key, want in (where or {}).items():
            if key == "AND":
                ok = all(self.matches(obj, w) for w in want or [])
            elif key == "OR":
                ok = any(self.matches(obj, w) for w in want or [])
            elif key == "NOT":
                ok = not any(self.matches(obj, w) for w in want or [])
            else:
                ok = self._field(obj, key, want)
            if not ok:
                return False
        return True

    def _field(self, obj, key, want):
        base, op = key, ""
        if key not in obj:
            for suffix in OPS:
                if key.endswith(suffix) and key[:-len(suffix)]:
                    base, op = key[:-len(suffix)], suffix
                    break
        have = obj.get(base)
        if op in ("_some", "_every", "_none"):
            items = [self._related(base, r) for r in have or []]
            hits = [self.matches(i, want) for i in items]
            return {"_some": any(hits), "_every": all(hits),
                    "_none": not any(hits)}[op]
        if isinstance(want, dict):  # a relation, nested
            return have is not None and self.matches(
                self._related(base, have), want)
        if op == "":
            return have == want
        if op == "_not":
            return have != want
        if op == "_in":
            return have in (want or [])
        if op == "_not_in":
            return have not in (want or [])
        if have is None:
            return False
        return {"_lt": lambda: have < want, "_lte": lambda: have <= want,
                "_gt": lambda: have > want, "_gte": lambda: have >= want,
                "_contains": lambda: want in have,
                "_not_contains": lambda: want not in have,
                "_starts_with": lambda: have.startswith(want),
                "_not_starts_with": lambda: not have.startswith(want),
                "_ends_with": lambda: have.endswith(want),
                "_not_ends_with": lambda: not have.endswith(want)}[op]()

    def query(self, kind, body):
        """A get-* operation's answer: the matching objects, sorted and
        paged as body says."""
        with self.lock:
            hits = [o for o in self.all(kind)
                    if self.matches(o, body.get("where"))]
            order = body.get("orderBy")
            if order:
                field, _, way = order.rpartition("_")
                hits.sort(key=lambda o: (o.get(field) is None,
                                         o.get(field)),
                          reverse=way == "DESC")
            if body.get("after"):
                ids = [o["id"] for o in hits]
                at = ids.index(body["after"]) + 1 if body["after"] in ids \
                    else len(hits)
                hits = hits[at:]
            if body.get("before"):
                ids = [o["id"] for o in hits]
                hits = hits[:ids.index(body["before"])] \
                    if body["before"] in ids else hits
            hits = hits[body.get("skip") or 0:]
            if body.get("first") is not None:
                hits = hits[:body["first"]]
            if body.get("last") is not None:
                hits = hits[-body["last"]:] if body["last"] else []
            return hits
