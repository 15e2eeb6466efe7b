"""Data sets: Omniglot and Lake et al.'s one-shot runs (`reference.datasets.omniglot`), with the
PNG decoding and area resizing they use (`reference.datasets.images`)."""
