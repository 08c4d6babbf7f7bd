#!/usr/bin/env python3
"""The rooms of the code and their one-way arrows, checked from the includes.

Each folder is a room (README, "Layout"). A file may include headers of the
rooms its room may use (ARROWS), and nothing it reaches through them, however
indirectly, may be of a kind its room must never use (NEVER): gRPC for the
table, the plan and the process layer; protobuf too for the table and the
process layer. The build runs this (target check_layers), so a wrong arrow
fails `cmake --build`; tests/layout/layers_test.sh shows that it does.

    check_layers.py SOURCE_DIR    exit 0, or 1 with one line per wrong arrow
"""
import os
import re
import sys

# Folder (or file) -> room, most specific first.
ROOMS = [
    ("server/main.cc", "main"),
    ("client/rexec_main.cc", "main"),
    ("common/", "common"),
    ("server/process/", "process"),
    ("server/auth/", "auth"),
    ("server/table/", "table"),
    ("server/plan/", "plan"),
    ("server/ops/", "ops"),
    ("server/front/", "front"),
    ("server/rpc/", "rpc"),
    ("client/", "client"),
]

# The rooms (and kinds of outside code) each room may include directly.
# "messages": the API's generated messages; "grpc": gRPC, its generated
# services included; "protobuf": the protobuf library itself.
ARROWS = {
    "common": {"common", "protobuf", "messages"},  # the Node channel's codec
    "process": {"process", "common"},
    "auth": {"auth", "common", "messages", "protobuf", "grpc"},
    "table": {"table", "process", "common"},
    "plan": {"plan", "auth", "process", "common", "messages", "protobuf"},
    "ops": {"ops", "common", "grpc"},  # gRPC's own log goes to ours
    "front": {"front", "process", "common"},
    "rpc": {"rpc", "table", "plan", "auth", "ops", "process", "common",
            "messages", "protobuf", "grpc"},
    "client": {"client", "common", "messages", "protobuf", "grpc"},
    "main": None,  # the binaries may use every room
}

# What a room must never reach, directly or through any header it includes.
NEVER = {
    "common": {"grpc"},
    "process": {"grpc", "protobuf", "messages"},
    "table": {"grpc", "protobuf", "messages"},
    "plan": {"grpc"},
    "ops": set(),
    "auth": set(),
    "front": {"grpc", "protobuf", "messages"},
    "rpc": set(),
    "client": set(),
    "main": set(),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def room_of(path):
    for prefix, room in ROOMS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return room
    return None


def kind_of(header, exists):
    """The room or outside kind of an included header; None: not ours to judge."""
    if header.endswith(".grpc.pb.h"):
        return "grpc"
    if header.endswith(".pb.h"):
        return "messages"
    if header.startswith(("grpcpp/", "grpc/", "grpc++/")):
        return "grpc"
    if header.startswith("google/protobuf/"):
        return "protobuf"
    if exists(header):
        return room_of(header)
    return None


def main(source_dir):
    def exists(header):
        return os.path.isfile(os.path.join(source_dir, header))

    includes = {}  # repo path -> [(header, line)]

    def includes_of(path):
        if path not in includes:
            with open(os.path.join(source_dir, path), encoding="utf-8") as f:
                text = f.read()
            includes[path] = [
                (m.group(2), text.count("\n", 0, m.start()) + 1)
                for m in INCLUDE.finditer(text)
            ]
        return includes[path]

    files = []
    for top in ("common", "server", "client"):
        for dirpath, _, names in os.walk(os.path.join(source_dir, top)):
            for name in names:
                if name.endswith((".h", ".cc")):
                    files.append(os.path.relpath(os.path.join(dirpath, name),
                                                 source_dir))
    wrong = []
    for path in sorted(files):
        room = room_of(path)
        if room is None:
            continue
        allowed = ARROWS[room]
        for header, line in includes_of(path):
            kind = kind_of(header, exists)
            if kind is None or allowed is None or kind in allowed:
                continue
            wrong.append(f"{path}:{line}: the {room} room includes {header} "
                         f"({kind}), which it may not use")
        # Everything reached through the project's own headers.
        seen, stack = set(), [path]
        while stack:
            current = stack.pop()
            for header, line in includes_of(current):
                kind = kind_of(header, exists)
                if kind in NEVER[room]:
                    via = "" if current == path else f" (through {current})"
                    wrong.append(f"{path}: the {room} room reaches {header} "
                                 f"({kind}){via}, which it must never use")
                if exists(header) and header not in seen:
                    seen.add(header)
                    stack.append(header)
    for line in sorted(set(wrong)):
        print(line)
    return 1 if wrong else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
