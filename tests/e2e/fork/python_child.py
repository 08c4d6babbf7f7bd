# A child in another language speaking the Fork channel protocol by hand:
# one JSON value per line on fd 3 (NODE_CHANNEL_FD), both ways. It greets,
# answers each message with {"python": MESSAGE}, and ends at EOF.
import json
import os

fd = int(os.environ["NODE_CHANNEL_FD"])
assert os.environ["NODE_CHANNEL_SERIALIZATION_MODE"] == "json"
channel = os.fdopen(fd, "r+b", buffering=0)


def send(value):
    channel.write(json.dumps(value, ensure_ascii=False).encode() + b"\n")


send({"hello": "from python"})
for line in iter(channel.readline, b""):
    send({"python": json.loads(line)})
