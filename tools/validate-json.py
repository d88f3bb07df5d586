#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate JSON documents against the landmark schemas (docs/schema/, JSON Schema 2020-12)
with a real validator (Debian python3-jsonschema, tools/setup.sh).

usage: validate-json.py [--ndjson] [--min N] SCHEMA[#/$defs/NAME] FILE|- ...
  SCHEMA: a file name in docs/schema/ (record.schema.json, ...), optionally with a fragment
  naming one of its $defs. --ndjson: every non-empty line of each FILE is one document.
  --min N: fail unless at least N documents were validated.
Exit 0: every document valid; 1: the first errors of each invalid one are printed; 2: usage."""
import glob
import json
import os
import sys

import jsonschema

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "schema")
BASE = "https://landmark.invalid/schema/"


def validator(ref):
    store = {}
    for p in glob.glob(os.path.join(HERE, "*.schema.json")):
        s = json.load(open(p))
        store[s["$id"]] = s
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": BASE + ref}
    try:
        from referencing import Registry, Resource
        reg = Registry().with_resources(
            (k, Resource.from_contents(v)) for k, v in store.items())
        return jsonschema.Draft202012Validator(schema, registry=reg)
    except ImportError:  # jsonschema < 4.18 (Debian 12): the RefResolver store
        res = jsonschema.RefResolver(BASE, schema, store=store)
        return jsonschema.Draft202012Validator(schema, resolver=res)


def main(argv):
    ndjson, need = False, 0
    while argv and argv[0].startswith("--"):
        if argv[0] == "--ndjson":
            ndjson = True
            argv = argv[1:]
        elif argv[0] == "--min" and len(argv) > 1:
            need = int(argv[1])
            argv = argv[2:]
        else:
            break
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    v = validator(argv[0])
    jsonschema.Draft202012Validator.check_schema(json.load(open(os.path.join(HERE, argv[0].split("#")[0]))))
    n = bad = 0
    for f in argv[1:]:
        text = sys.stdin.read() if f == "-" else open(f).read()
        docs = [l for l in text.splitlines() if l.strip()] if ndjson else [text]
        for i, d in enumerate(docs):
            n += 1
            where = f"{f}:{i + 1}" if ndjson else f
            try:
                doc = json.loads(d)
            except ValueError as e:
                print(f"{where}: not JSON: {e}")
                bad += 1
                continue
            e = jsonschema.exceptions.best_match(v.iter_errors(doc))
            if e is not None:
                bad += 1
                while e.context:  # oneOf/anyOf: the branch that got furthest
                    e = max(e.context, key=lambda c: (len(c.absolute_path), -len(c.context)))
                path = "/".join(str(p) for p in e.absolute_path)
                print(f"{where}: /{path}: {e.message[:200]}")
    if n < need:
        print(f"only {n} documents, want at least {need}")
        return 1
    print(f"{argv[0]}: {n - bad} of {n} documents valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
