#!/usr/bin/env python3
"""Differential test: relais-schema validate against pydantic 2.

For every lib/schemas/ID.json a pydantic model is built from the schema
(extra='forbid', every field required, anyOf-with-null as Optional, enum as
Literal, $ref/$defs as nested models, constraints as Field()), and every
instance under tests/conformance/pydantic/ID/ is validated by
Model.model_validate_json() and by `relais-schema validate`; the lists of
(type, loc) must be equal, in order.

  pydantic-diff.py [--generate] SRCDIR RELAIS_SCHEMA

--generate rewrites the corpus (deterministic) before checking.
"""
import json
import os
import random
import re
import subprocess
import sys
import typing

try:
    import pydantic
    from pydantic import BaseModel, ConfigDict, Field, ValidationError
except ImportError:
    print("# pydantic is not installed for %s: differential test NOT run"
          % sys.executable)
    sys.exit(77)

from typing import Annotated, Literal, Optional


class Builder:
    def __init__(self, schema):
        self.root = schema
        self.models = {}
        self.pending = set()
        self.count = 0

    def resolve(self, ref):
        node = self.root
        for seg in ref[2:].split("/"):
            node = node[seg.replace("~1", "/").replace("~0", "~")]
        return node, ref.rsplit("/", 1)[-1]

    def typ(self, s, hint):
        if "$ref" in s:
            target, name = self.resolve(s["$ref"])
            return self.model(target, target.get("title", name), name)
        if "anyOf" in s:
            br = s["anyOf"]
            nonnull = [b for b in br if b.get("type") != "null"]
            if len(br) == 2 and len(nonnull) == 1:
                return Optional[self.typ(nonnull[0], hint)]
            return typing.Union[tuple(self.typ(b, hint) for b in br)]
        if "enum" in s:
            return Literal[tuple(s["enum"])]
        t = s.get("type")
        if isinstance(t, list):
            rest = [x for x in t if x != "null"]
            inner = self.typ(dict(s, type=rest[0]), hint)
            return Optional[inner] if "null" in t else inner
        kw = {}
        for a, b in (("minimum", "ge"), ("maximum", "le"),
                     ("exclusiveMinimum", "gt"), ("exclusiveMaximum", "lt"),
                     ("multipleOf", "multiple_of"),
                     ("minLength", "min_length"), ("maxLength", "max_length"),
                     ("pattern", "pattern"), ("minItems", "min_length"),
                     ("maxItems", "max_length")):
            if a in s:
                kw[b] = s[a]
        if t == "string":
            base = str
        elif t == "integer":
            base = int
        elif t == "number":
            base = float
        elif t == "boolean":
            base = bool
        elif t == "null":
            base = type(None)
        elif t == "array":
            base = list[self.typ(s.get("items", {}), hint + "Item")]
        elif t == "object":
            return self.model(s, s.get("title", hint), None)
        else:
            base = typing.Any
        return Annotated[base, Field(**kw)] if kw else base

    def model(self, s, title, defname):
        key = id(s)
        if key in self.models:
            return self.models[key]
        if key in self.pending:
            return typing.ForwardRef(self.fwd[key])
        self.pending.add(key)
        self.count += 1
        pyname = re.sub(r"\W", "_", title)
        if not hasattr(self, "fwd"):
            self.fwd = {}
        self.fwd[key] = pyname
        fields = {}
        required = set(s.get("required", []))
        for i, (name, sub) in enumerate(s.get("properties", {}).items()):
            ident = "f%d_%s" % (i, re.sub(r"\W", "_", name, flags=re.A))
            t = self.typ(sub, title + "_" + ident)
            if name in required:
                fields[ident] = (t, Field(..., alias=name))
            else:
                fields[ident] = (t, Field(sub.get("default"), alias=name))
        extra = "forbid" if s.get("additionalProperties") is False \
            else "allow"
        m = pydantic.create_model(pyname, __config__=ConfigDict(
            extra=extra), **fields)
        self.models[key] = m
        self.pending.discard(key)
        self.byname = getattr(self, "byname", {})
        self.byname[pyname] = m
        return m

    def build(self):
        m = self.model(self.root, self.root.get("title", "Model"), None)
        ns = dict(getattr(self, "byname", {}))
        for mod in ns.values():
            mod.model_rebuild(_types_namespace=ns)
        return m


# ---- corpus -------------------------------------------------------------

def sample(b, s, rnd, depth=0):
    """A valid instance of schema s."""
    if "$ref" in s:
        return sample(b, b.resolve(s["$ref"])[0], rnd, depth + 1)
    if "anyOf" in s:
        br = s["anyOf"]
        if depth > 4 or rnd.random() < 0.3:
            for x in br:
                if x.get("type") == "null":
                    return None
        return sample(b, [x for x in br if x.get("type") != "null"][0],
                      rnd, depth + 1)
    if "enum" in s:
        return rnd.choice(s["enum"])
    t = s.get("type")
    if t == "string":
        if "pattern" in s:
            return "#%06X" % rnd.randrange(1 << 24)
        return rnd.choice(["Texte", "Introduction au cours", "Semaine 1",
                           "Évaluation « finale »", "420-1A3-GA"])
    if t == "integer":
        return rnd.randrange(s.get("minimum", 0), 16)
    if t == "number":
        return rnd.choice([0, 1.5, 12, 33.3, 100])
    if t == "boolean":
        return rnd.random() < 0.5
    if t == "array":
        n = 0 if depth > 5 else rnd.randrange(1, 3)
        return [sample(b, s["items"], rnd, depth + 1) for _ in range(n)]
    if t == "object":
        return {k: sample(b, v, rnd, depth + 1)
                for k, v in s.get("properties", {}).items()}
    return None


def paths(b, s, v, here, out, depth=0):
    """(path, schema) for every value in the valid instance v."""
    while "$ref" in s:
        s = b.resolve(s["$ref"])[0]
    if "anyOf" in s and v is not None:
        s = [x for x in s["anyOf"] if x.get("type") != "null"][0]
        while "$ref" in s:
            s = b.resolve(s["$ref"])[0]
    out.append((here, s, v))
    if isinstance(v, dict):
        for k, sub in s.get("properties", {}).items():
            if k in v:
                paths(b, sub, v[k], here + [k], out, depth + 1)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            paths(b, s.get("items", {}), x, here + [i], out, depth + 1)


def setp(doc, path, fn):
    if not path:
        return fn(doc)
    cur = doc
    for seg in path[:-1]:
        cur = cur[seg]
    r = fn(cur[path[-1]])
    if r is DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = r
    return doc


DELETE = object()


def mutants(b, schema, rnd):
    base = sample(b, schema, rnd)
    out = [("valid", json.dumps(base, ensure_ascii=False))]
    for _ in range(2):
        out.append(("valid", json.dumps(sample(b, schema, rnd),
                                        ensure_ascii=False)))
    ps = []
    paths(b, schema, base, [], ps)
    rnd.shuffle(ps)
    kinds = {}
    for path, s, v in ps:
        t = s.get("type")
        cands = []
        if t == "object":
            cands.append(("extra", lambda x: dict(x, autre=1)))
            if x_keys(v):
                k = rnd.choice(list(v))
                cands.append(("missing-" + k, lambda x, k=k:
                              {a: c for a, c in x.items() if a != k}))
            cands.append(("list-for-object", lambda x: [x]))
        elif t == "string" and "enum" in s:
            cands.append(("enum", lambda x: "autre"))
        elif t == "string":
            cands.append(("int-for-str", lambda x: 42))
            cands.append(("null-for-str", lambda x: None))
            if "pattern" in s:
                cands.append(("pattern", lambda x: "rouge"))
        elif t == "integer":
            cands.append(("str-int", lambda x: str(x)))
            cands.append(("float-int", lambda x: x + 0.5))
            cands.append(("whole-float-int", lambda x: float(x)))
            cands.append(("junk-int", lambda x: "douze"))
            cands.append(("bool-int", lambda x: True))
            if "minimum" in s:
                cands.append(("below-min", lambda x: s["minimum"] - 1))
        elif t == "number":
            cands.append(("str-num", lambda x: "3.25"))
            cands.append(("junk-num", lambda x: "abc"))
            cands.append(("obj-num", lambda x: {}))
        elif t == "array":
            cands.append(("str-for-list", lambda x: "a,b"))
            cands.append(("null-for-list", lambda x: None))
        for kind, fn in cands:
            if kinds.get(kind, 0) >= 2:
                continue
            kinds[kind] = kinds.get(kind, 0) + 1
            doc = json.loads(json.dumps(base))
            doc = setp(doc, path, fn)
            out.append((kind, json.dumps(doc, ensure_ascii=False)))
    # several errors at once, and documents that are not objects
    doc = json.loads(json.dumps(base))
    if isinstance(doc, dict) and doc:
        k = list(doc)[0]
        del doc[k]
        doc["en_trop"] = [1]
        out.append(("multi", json.dumps(doc, ensure_ascii=False)))
    out.append(("root-array", "[]"))
    out.append(("root-string", '"texte"'))
    out.append(("bad-json", json.dumps(base, ensure_ascii=False)[:-1]))
    return out


def x_keys(v):
    return isinstance(v, dict) and len(v) > 0


def generate(src):
    sdir = os.path.join(src, "lib", "schemas")
    cdir = os.path.join(src, "tests", "conformance", "pydantic")
    for fn in sorted(os.listdir(sdir)):
        if not fn.endswith(".json"):
            continue
        sid = fn[:-5]
        schema = json.load(open(os.path.join(sdir, fn)))
        b = Builder(schema)
        rnd = random.Random(sid)
        d = os.path.join(cdir, sid)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            os.unlink(os.path.join(d, old))
        for i, (kind, text) in enumerate(mutants(b, schema, rnd)):
            with open(os.path.join(d, "%02d-%s.json" % (i, kind)), "w") as f:
                f.write(text + "\n")


# ---- check --------------------------------------------------------------

def main():
    args = sys.argv[1:]
    gen = args and args[0] == "--generate"
    if gen:
        args = args[1:]
    if len(args) != 2:
        print("usage: pydantic-diff.py [--generate] srcdir relais-schema")
        return 2
    src, tool = args
    if gen:
        generate(src)
    sdir = os.path.join(src, "lib", "schemas")
    cdir = os.path.join(src, "tests", "conformance", "pydantic")
    n = 0
    bad = 0
    total = 0
    print("# pydantic %s" % pydantic.VERSION)
    for fn in sorted(os.listdir(sdir)):
        if not fn.endswith(".json"):
            continue
        sid = fn[:-5]
        spath = os.path.join(sdir, fn)
        model = Builder(json.load(open(spath))).build()
        d = os.path.join(cdir, sid)
        files = sorted(os.listdir(d)) if os.path.isdir(d) else []
        fails = []
        for inst in files:
            ipath = os.path.join(d, inst)
            raw = open(ipath, "rb").read()
            try:
                model.model_validate_json(raw)
                want = []
            except ValidationError as e:
                want = [(x["type"], list(x["loc"]))
                        for x in e.errors(include_url=False)]
            p = subprocess.run([tool, "validate", spath, ipath],
                               capture_output=True, text=True)
            if p.returncode not in (0, 1):
                fails.append((inst, "exit %d: %s" % (p.returncode,
                                                    p.stderr.strip())))
                continue
            got = [(x["type"], x["loc"]) for x in json.loads(p.stdout)]
            total += 1
            if got != want:
                fails.append((inst, "pydantic %s, relais %s" % (want, got)))
        n += 1
        if fails or not files:
            bad += 1
            print("not ok %d - %s: %d of %d instances differ" %
                  (n, sid, len(fails), len(files)))
            for inst, why in fails:
                print("#   %s: %s" % (inst, why))
        else:
            print("ok %d - %s: %d instances, same type and loc lists" %
                  (n, sid, len(files)))
    print("# %d instances compared" % total)
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
