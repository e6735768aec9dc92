"""Losses of the variational autoencoder, written with `keras.ops` only.

They take numpy arrays or tensors of any backend and return backend tensors,
so the same functions train a VAE on TensorFlow, JAX and PyTorch and can be
reused in research code. Their reduction is stated, never implied: the
issues users hit with VAE losses (keras-team/keras#3169, the lecture's own
slide) come from averaging one term and summing the other.

A face: the losses live with the autoencoders
(`keras_recipes/_recipes/autoencoders/losses.py`); `ReconstructionError`
stays registered as `keras_recipes>ReconstructionError`.
"""

from keras_recipes._recipes.autoencoders.losses import (
    LOG_VAR_LIMIT,
    ReconstructionError,
    gaussian_kl_divergence,
    reconstruction_error,
    vae_loss,
)

__all__ = [
    "LOG_VAR_LIMIT",
    "ReconstructionError",
    "gaussian_kl_divergence",
    "reconstruction_error",
    "vae_loss",
]
