# SPDX-License-Identifier: GPL-2.0
# The Python "hello" function of the cold-start benchmark: reports ready,
# then answers each request line with a reply and its checksum.
import hashlib
import json
import sys


def main():
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        reply = "hello"
        checksum = hashlib.sha256((line + reply).encode()).hexdigest()[:16]
        print(json.dumps({"reply": reply, "checksum": checksum}), flush=True)


main()
