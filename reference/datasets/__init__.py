"""Data sets: Omniglot and Lake et al.'s one-shot runs (:mod:`reference.datasets.omniglot`)."""
