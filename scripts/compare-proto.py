#!/usr/bin/env python3
"""Checks our proto/tfplugin6.proto against the public definition.

Usage: scripts/compare-proto.py proto/tfplugin6.proto UPSTREAM.proto

UPSTREAM.proto is a copy of the public tfplugin6.proto (for example from
hashicorp/terraform-plugin-go, tfprotov6/internal/tfplugin6/tfplugin6.proto);
it is read, never stored here. Every field, enum value and RPC we declare
must exist upstream under the same nested name, with the same number, type
and label. Exits 1 and lists the differences otherwise.
"""
import re
import sys

FIELD = re.compile(
    r"^(repeated\s+|optional\s+)?(map<[^>]+>|[A-Za-z_][\w.]*)\s+(\w+)\s*=\s*(\d+)\s*(?:\[[^\]]*\])?\s*;"
)
ENUM_VALUE = re.compile(r"^(\w+)\s*=\s*(-?\d+)\s*;")
RPC = re.compile(r"^rpc\s+(\w+)\s*\(\s*([\w.]+)\s*\)\s*returns\s*\(\s*(stream\s+)?([\w.]+)\s*\)")
OPEN = re.compile(r"^(message|enum|service|oneof)\s+(\w+)\s*\{")


def declarations(path):
    """Maps 'Outer.Inner.field' to (label, type, number) and 'rpc Name' to types."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    found = {}
    stack = []  # (kind, name)
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        opened = OPEN.match(line)
        if opened:
            stack.append(opened.groups())
            if line.endswith("}"):
                stack.pop()
            continue
        if line.startswith("}"):
            stack.pop()
            continue
        # A oneof's fields belong to the enclosing message.
        scope = ".".join(name for kind, name in stack if kind != "oneof")
        kind = stack[-1][0] if stack else None
        if kind == "service":
            rpc = RPC.match(line)
            if rpc:
                name, request, stream, response = rpc.groups()
                found[f"rpc {name}"] = (request, (stream or "").strip(), response)
            continue
        if kind == "enum":
            value = ENUM_VALUE.match(line)
            if value:
                found[f"{scope}.{value.group(1)}"] = ("enum", value.group(2))
            continue
        field = FIELD.match(line)
        if field:
            label, ty, name, number = field.groups()
            found[f"{scope}.{name}"] = ((label or "").strip(), ty, int(number))
    return found


def main():
    ours, upstream = (declarations(p) for p in sys.argv[1:3])
    problems = []
    for key, value in sorted(ours.items()):
        if key not in upstream:
            problems.append(f"{key}: not in the public definition")
        elif upstream[key] != value:
            problems.append(f"{key}: ours {value}, public {upstream[key]}")
    numbers = {}
    for key, value in ours.items():
        if not key.startswith("rpc ") and value[0] != "enum":
            scope = key.rsplit(".", 1)[0]
            numbers.setdefault((scope, value[2]), []).append(key)
    problems += [f"number {n} used twice in {s}: {k}" for (s, n), k in numbers.items() if len(k) > 1]
    for p in problems:
        print(p)
    print(f"{len(ours)} declarations checked, {len(problems)} differences")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
