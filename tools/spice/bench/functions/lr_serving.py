# SPDX-License-Identifier: GPL-2.0
# The Python "lr serving" function of the cold-start benchmark
# (python3-sklearn): trains a logistic regression at start on generated
# data (the same on every run), then for each request classifies a batch of
# inputs and replies with a checksum of the predicted probabilities.
import hashlib
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression


def data(n, features, seed):
    """@n labelled points: two Gaussian classes, from a fixed seed."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n, features))
    w = np.linspace(-1.0, 1.0, features)
    y = (x @ w + 0.5 * rng.normal(size=n) > 0).astype(int)
    return x, y


def main():
    x, y = data(1000, 20, 0)
    model = LogisticRegression(max_iter=200).fit(x, y)
    batch, _ = data(64, 20, 1)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        proba = model.predict_proba(batch)[:, 1]
        text = ",".join("%.6f" % p for p in proba)
        checksum = hashlib.sha256((line + text).encode()).hexdigest()[:16]
        print(json.dumps({"reply": int((proba > 0.5).sum()), "checksum": checksum}),
              flush=True)


main()
