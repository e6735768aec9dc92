"""The split-brain autoencoder: its spec, layers, builder and helpers."""
