# A child that sends a handle while the server is busy writing to it: the
# server then owes it a NODE_HANDLE_NACK, and must send it once the channel
# is free. It greets, waits for "go" on stdin (sent after a message too big
# for the channel's buffer, which it does not read yet), sends NODE_HANDLE
# and {"handle_sent": true}, then reads the channel: the big message, then
# the NACK. It reports {"nack": true/false} and ends; a NACK that never
# comes is false after 10 s, not a hang.
import json
import os
import select
import sys

fd = int(os.environ["NODE_CHANNEL_FD"])
channel = os.fdopen(fd, "r+b", buffering=0)


def send(value):
    channel.write(json.dumps(value).encode() + b"\n")


send({"ready": True})
sys.stdin.readline()
channel.write(b'{"cmd":"NODE_HANDLE","type":"net.Server","msg":"h"}\n')
send({"handle_sent": True})

pending = b""
lines = []
while len(lines) < 2:
    ready, _, _ = select.select([fd], [], [], 10)
    if not ready:
        break
    chunk = os.read(fd, 1 << 16)
    if not chunk:
        break
    pending += chunk
    *complete, pending = pending.split(b"\n")
    lines += complete
got = [json.loads(line) for line in lines]
send({"big": len(lines) > 0 and isinstance(got[0], str) and len(got[0]),
      "nack": len(got) > 1 and got[1] == {"cmd": "NODE_HANDLE_NACK"}})
