"""The autoencoder recipes: `autoencoder` and `vae`, their halves, `Sampling` and losses."""
