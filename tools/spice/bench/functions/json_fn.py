# SPDX-License-Identifier: GPL-2.0
# The Python "json" function of the cold-start benchmark: builds a document
# at start, then for each request serialises and parses it again and
# replies with a checksum of the result.
import hashlib
import json
import sys


def document():
    return {"items": [{"id": i, "name": "item-%d" % i, "tags": ["a", "b", str(i % 7)],
                       "price": i * 1.25} for i in range(2000)]}


def main():
    doc = document()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        text = json.dumps(json.loads(json.dumps(doc)), sort_keys=True)
        checksum = hashlib.sha256((line + text).encode()).hexdigest()[:16]
        print(json.dumps({"reply": len(text), "checksum": checksum}), flush=True)


main()
