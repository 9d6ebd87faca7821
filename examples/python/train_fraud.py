"""Train a small fraud classifier as a Berth run, register the run as a version, and promote it.

The training loop logs its metrics into a run (one point per epoch), the run keeps what it produced (the pickled
model and an evaluation report) as run files, and the run is registered as a version from those files, without
uploading them again; the version's lineage names the run and its metrics are the run's final ones.

Run it against a server you are logged in to (``berth login``) or with BERTH_URL and BERTH_TOKEN set:

    python3 examples/python/train_fraud.py --model acme/fraud --stage staging

It needs numpy and scikit-learn (Debian: python3-numpy, python3-sklearn) and the berth package
(``pip install ./clients/python``, or PYTHONPATH=clients/python/src).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

import berth


def make_data(rows: int, seed: int) -> "tuple[np.ndarray, np.ndarray]":
    """Synthetic transactions: 8 features, fraud when a hidden linear score plus noise is high (about 10 %)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 8))
    weights = np.array([2.0, -1.5, 1.0, 0.0, 0.5, 0.0, -0.5, 1.2])
    score = features @ weights + rng.normal(scale=1.0, size=rows)
    labels = (score > np.quantile(score, 0.9)).astype(int)
    return features, labels


def git_commit() -> "str | None":
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else None
    except OSError:
        return None


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo/fraud", help="namespace/model to register into (default: demo/fraud)")
    parser.add_argument("--stage", default="staging", help="stage to promote the new version to (default: staging)")
    parser.add_argument("--min-auc", type=float, default=0.8, help="do not register a model below this AUC")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    features, labels = make_data(4000, args.seed)
    train_x, test_x, train_y, test_y = train_test_split(features, labels, test_size=0.25, random_state=args.seed, stratify=labels)
    params = {"seed": args.seed, "rows": len(features), "alpha": 0.001, "epochs": 20}
    lineage = berth.RunLineage(git_commit=git_commit(), datasets=[berth.Dataset("synthetic://transactions?rows=4000")])

    client = berth.Client()
    with client.start_run(args.model, name=f"sgd-seed{args.seed}", params=params, lineage=lineage) as run:
        classifier = SGDClassifier(loss="log_loss", alpha=params["alpha"], random_state=args.seed)
        for epoch in range(params["epochs"]):
            classifier.partial_fit(train_x, train_y, classes=[0, 1])
            auc = roc_auc_score(test_y, classifier.predict_proba(test_x)[:, 1])
            accuracy = accuracy_score(test_y, classifier.predict(test_x))
            run.log({"auc": auc, "accuracy": accuracy}, step=epoch)  # buffered: never slows the loop
        print(f"trained in run {run.ref}: auc={auc:.4f} accuracy={accuracy:.4f}")

        with tempfile.TemporaryDirectory(prefix="fraud-outputs-") as outputs:
            os.makedirs(os.path.join(outputs, "model"))
            with open(os.path.join(outputs, "model", "model.pkl"), "wb") as f:
                pickle.dump(classifier, f, protocol=4)
            with open(os.path.join(outputs, "evaluation.json"), "w") as f:
                json.dump({"auc": auc, "accuracy": accuracy, "test_rows": len(test_y)}, f)
            files = run.log_files(outputs, progress=False)  # only bytes the server lacks are sent
        print(f"run files: {', '.join(f.path for f in files)} ({files.bytes_uploaded} bytes uploaded)")

        if auc < args.min_auc:
            print(f"auc {auc:.4f} is below {args.min_auc}: not registering", file=sys.stderr)
            return 1
        # The version is the run's model/ folder (the prefix is stripped); its metrics are the run's final values.
        version = run.register(path="model/", aliases=["candidate"],
                               tags={"framework": "scikit-learn", "sklearn_version": sklearn.__version__,
                                     "dataset": "synthetic-transactions"})
    print(f"registered {version.reference} from run {version.lineage.run_id}, aliases {version.aliases}")

    moved = client.set_stage(version.reference, args.stage, comment=f"auc {auc:.4f}")
    if moved.outcome == "requested" and moved.request is not None:
        print(f"{args.stage} is protected: request {moved.request.id} waits for approval")
    else:
        print(f"{version.reference} is in {args.stage} ({moved.outcome})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
