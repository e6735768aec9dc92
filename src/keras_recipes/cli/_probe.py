"""The linear probe of `keras-recipes train split-brain`, in numpy.

A multinomial logistic regression on standardised features, trained full
batch with Adam on the softmax cross-entropy plus a small L2 penalty, as
`benchmarks/split_brain_check.py` probes (the paper's "linear classifier on
frozen features"). Its matrices are small, so BLAS runs on one thread,
leaving the cores to the backend's own threads. Why numpy rather than
scikit-learn or Keras, with the times that decided it: the Benchmarks page,
"The split-brain linear probe".
"""

from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

STEPS = 300
LEARNING_RATE = 0.01
L2_PENALTY = 1e-3


def accuracy(train_features, train_labels, test_features, test_labels, num_classes):
    """Test accuracy of a logistic regression fitted on the training features.

    Args:
        train_features: `(n, d)` features of the labelled training examples.
        train_labels: `(n,)` integer labels in `[0, num_classes)`.
        test_features: `(m, d)` features of the held-out examples.
        test_labels: `(m,)` integer labels.
        num_classes: the number of classes.

    Returns:
        The fraction of held-out examples classified correctly, a float.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_and_score(
            train_features, train_labels, test_features, test_labels, num_classes
        )


def _fit_and_score(train_features, train_labels, test_features, test_labels, num_classes):
    train_features = np.asarray(train_features, dtype="float64")
    test_features = np.asarray(test_features, dtype="float64")
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0) + 1e-6
    train_inputs = _with_bias((train_features - mean) / std)
    test_inputs = _with_bias((test_features - mean) / std)
    one_hot = np.eye(num_classes)[train_labels]
    weights = np.zeros((train_inputs.shape[1], num_classes))
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    for step in range(1, STEPS + 1):
        gradient = (
            train_inputs.T @ (_softmax(train_inputs @ weights) - one_hot) / len(train_inputs)
            + L2_PENALTY * weights
        )
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient**2
        weights -= (
            LEARNING_RATE
            * (first / (1 - 0.9**step))
            / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
        )
    predictions = (test_inputs @ weights).argmax(axis=1)
    return float((predictions == np.asarray(test_labels)).mean())


def _with_bias(features):
    return np.concatenate([features, np.ones((len(features), 1))], axis=1)


def _softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    values = np.exp(logits)
    return values / values.sum(axis=1, keepdims=True)


class FolderProbe(NamedTuple):
    """The linear probes of one model on a labelled folder (`--probe-data`)."""

    accuracy: dict
    features: dict
    train_images: int
    test_images: int
    skipped: tuple


def table(result):
    """The lines of a Markdown table of `probe.json`'s accuracies, in the layout of the paper's Table 2.

    One column per layer; a row of feature counts, then the network before
    pre-training (the paper's "Gaussian" row) and after.

    Args:
        result: the dict written to `probe.json`, with `accuracy`,
            `accuracy_before_pretraining`, `num_features`, `train_images`,
            `test_images`, `classes`, `chance` and `model_epoch`.

    Returns:
        A list of lines: a title, then the table.

    Example:

    >>> print("\\n".join(table({
    ...     "accuracy": {"conv1": 0.5}, "accuracy_before_pretraining": {"conv1": 0.25},
    ...     "num_features": {"conv1": 12}, "train_images": 40, "test_images": 10,
    ...     "classes": 4, "chance": 0.25, "model_epoch": 2})))
    linear probe: 4 classes, 40 training and 10 held-out images, chance 0.250
    | held-out accuracy | conv1 |
    | --- | ---: |
    | features | 12 |
    | before pre-training | 0.250 |
    | split-brain, epoch 2 | 0.500 |
    """
    layers = list(result["accuracy"])
    lines = [
        f"linear probe: {result['classes']} classes, {result['train_images']} training and "
        f"{result['test_images']} held-out images, chance {result['chance']:.3f}",
        "| held-out accuracy | " + " | ".join(layers) + " |",
        "| --- |" + " ---: |" * len(layers),
        "| features | " + " | ".join(str(result["num_features"][layer]) for layer in layers) + " |",
    ]
    before = result.get("accuracy_before_pretraining")
    if before is not None:
        lines.append("| before pre-training | "
                     + " | ".join(f"{before[layer]:.3f}" for layer in layers) + " |")
    lines.append(f"| split-brain, epoch {result['model_epoch']} | "
                 + " | ".join(f"{result['accuracy'][layer]:.3f}" for layer in layers) + " |")
    return lines
