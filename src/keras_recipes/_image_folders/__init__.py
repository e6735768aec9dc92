"""Folders of image files as training data: listing, splitting, sharding, decoding, streaming.

`listing` finds and splits the files and decodes one image (Pillow and
numpy, no Keras, so the command line checks a folder before Keras starts);
`dataset` streams them to `fit` as a `keras.utils.PyDataset`.
"""
