r"""Edwards & Storkey (2016), *Towards a Neural Statistician*: a VAE over whole data sets.

| Paper | Functions |
| --- | --- |
| Eq. (5), generative model | `init_params`, `latent_decoder`, `observation_decoder` |
| Eq. (6), approximate posterior | `inference_network` |
| Section 3.4, statistic network | `shared_encoder`, `statistic_network` |
| Eqs. (7)-(10), the bound | `elbo`, `elbo_terms`, `gaussian_kl`, `*_log_likelihood` |
| training, re-weighting | `training_loss`, `kl_weight`, `fit_sets` |
| Section 5.1, 1-D families | `sample_family_sets`, `family_probe`, `families_experiment`, ... |
| Section 5.2, point sets | `digit_point_sets`, `summarise`, `spatial_experiment` |
| Section 5.3, Omniglot | `fit`, `classify`, `episode_accuracy`, `lake_accuracy` |
| Section 5.3, convolutional networks | `conv_features`, `deconv_init`, `deconv_logits` |
| Section 5.3, baselines | `nearest_neighbour`, `fit_autoencoder`, `autoencoder_classifier` |
| generation | `sample_conditional` |
"""

from .baselines import autoencoder_classifier, encode, fit_autoencoder, nearest_neighbour
from .convolutional import conv_features, deconv_init, deconv_logits
from .experiments import context_means, families_experiment, spatial_experiment
from .fewshot import classify, episode_accuracy, fit, lake_accuracy, omniglot_batch
from .generation import sample_conditional
from .model import (inference_network, init_params, latent_decoder, observation_decoder,
                    shared_encoder, statistic_network)
from .objective import (bernoulli_log_likelihood, elbo, elbo_terms, gaussian_kl,
                        gaussian_log_likelihood, kl_weight, training_loss)
from .summarise import digit_point_sets, summarise
from .synthetic import (FAMILIES, family_probe, gaussian_fit_nll, sample_family_sets,
                        standardised_moments, true_family_nll)
from .training import fit_sets

__all__ = [
    "init_params", "shared_encoder", "statistic_network", "latent_decoder", "inference_network",
    "observation_decoder", "sample_conditional",
    "gaussian_kl", "gaussian_log_likelihood", "bernoulli_log_likelihood", "elbo_terms", "elbo",
    "kl_weight", "training_loss", "fit_sets",
    "FAMILIES", "sample_family_sets", "standardised_moments", "family_probe",
    "gaussian_fit_nll", "true_family_nll", "context_means", "families_experiment",
    "digit_point_sets", "summarise", "spatial_experiment",
    "omniglot_batch", "fit", "classify", "episode_accuracy", "lake_accuracy",
    "conv_features", "deconv_init", "deconv_logits",
    "nearest_neighbour", "fit_autoencoder", "encode", "autoencoder_classifier",
]
