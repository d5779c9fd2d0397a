# SPDX-License-Identifier: GPL-2.0
# The Python "image rotate" function of the cold-start benchmark
# (python3-pil): generates a 256x256 RGB picture at start (a gradient with
# a Mandelbrot set, the same on every run), then for each request rotates
# it by 90 and 30 degrees, encodes the result as PNG and replies with a
# checksum of the file.
import hashlib
import io
import json
import sys

from PIL import Image


def picture(size):
    """A deterministic RGB picture of @size x @size pixels."""
    red = Image.linear_gradient("L").resize((size, size))
    green = Image.effect_mandelbrot((size, size), (-2.0, -1.5, 1.0, 1.5), 64)
    blue = red.rotate(90)
    return Image.merge("RGB", (red, green, blue))


def main():
    img = picture(256)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        out = img.rotate(90).rotate(30, resample=Image.BILINEAR, expand=True)
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        checksum = hashlib.sha256(line.encode() + buf.getvalue()).hexdigest()[:16]
        print(json.dumps({"reply": out.size, "checksum": checksum}), flush=True)


main()
