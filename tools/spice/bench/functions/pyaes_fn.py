# SPDX-License-Identifier: GPL-2.0
# The Python "pyaes" function of the cold-start benchmark (python3-pyaes,
# AES in pure Python): builds a text and a key at start, then for each
# request encrypts the text with AES-128 in CTR mode, decrypts it again and
# replies with a checksum of the ciphertext.
import hashlib
import json
import sys

import pyaes

WORDS = ("the quick brown fox jumps over the lazy dog while serverless "
         "functions wait for their first request").split()


def text(size):
    """A deterministic text of @size bytes."""
    out, i = [], 0
    while sum(len(w) + 1 for w in out) < size:
        out.append(WORDS[(i * 7 + 3) % len(WORDS)])
        i += 1
    return " ".join(out).encode()[:size]


def main():
    key = hashlib.sha256(b"spice").digest()[:16]
    plain = text(2048)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        ctr = pyaes.Counter(initial_value=1)
        cipher = pyaes.AESModeOfOperationCTR(key, counter=ctr).encrypt(plain)
        ctr = pyaes.Counter(initial_value=1)
        if pyaes.AESModeOfOperationCTR(key, counter=ctr).decrypt(cipher) != plain:
            raise SystemExit("pyaes: decryption does not give the text back")
        checksum = hashlib.sha256(line.encode() + cipher).hexdigest()[:16]
        print(json.dumps({"reply": len(cipher), "checksum": checksum}), flush=True)


main()
