"""Data sets: Omniglot and Lake et al.'s one-shot runs (`reference.datasets.omniglot`)."""
