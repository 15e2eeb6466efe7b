r"""Matching Networks for One Shot Learning (Vinyals et al., 2016), arXiv:1606.04080.

| paper | function |
| --- | --- |
| Eq. (1): $\hat y = \sum_i a(\hat x, x_i)\, y_i$ | `attention.predict`, `attention.log_predict` |
| Eq. (2): softmax of the cosine over $S$ | `attention.attention`, `attention.similarity` |
| Section 2.2: the episode objective | `attention.episode_loss`, `training.fit` |
| Sections 2.2, 4.1.1: episodes, rotations, splits | `episodes.sample_episode`, `rotate`, |
| | `split_characters`, `matching_images` |
| Section 4.1.1: Conv-4 embedding $f' = g'$ | `embedding.embed` |
| Appendix A.2: $g$, bidirectional LSTM | `embedding.fce_g` |
| Appendix A.1, Eqs. (3)-(6): $f$, attention LSTM | `embedding.fce_f` |
| Order Matters, Section 4.2: an order-invariant $g$ | `embedding.set_g` |
| Section 4.1.1: prediction, saved models | `training.classify`, `save_params`, `load_params` |
| Section 4.1.1: accuracies, Lake et al.'s runs | `experiments.evaluate`, `lake_accuracy` |
| Section 4.1.1: baselines | `baselines.pixel_nn`, `feature_nn`, `exemplar_linear` |
| Section 4.1.1: fine-tuning on the support set | `finetune.finetune_head`, |
| | `support_episode`, `finetune_matching` |
"""

from .attention import attention, episode_loss, log_predict, one_hot, predict, similarity
from .baselines import exemplar_linear, feature_nn, fit_classifier, pixel_nn
from .finetune import finetune_head, finetune_matching, support_episode
from .embedding import embed, fce_f, fce_g, fce_init, set_g, set_init
from .episodes import matching_images, rotate, sample_episode, split_characters
from .experiments import evaluate, lake_accuracy, load_images, wilson_interval
from .training import (cache_dir, classify, fit, init_params, load_params, log_probs,
                       save_params)

__all__ = [
    "predict", "attention", "similarity", "log_predict", "episode_loss", "one_hot",
    "embed", "fce_init", "fce_g", "fce_f", "set_init", "set_g",
    "rotate", "split_characters", "sample_episode", "matching_images",
    "init_params", "log_probs", "fit", "classify", "save_params", "load_params", "cache_dir",
    "evaluate", "wilson_interval", "lake_accuracy", "load_images",
    "pixel_nn", "exemplar_linear", "fit_classifier", "feature_nn",
    "finetune_head", "support_episode", "finetune_matching",
]
