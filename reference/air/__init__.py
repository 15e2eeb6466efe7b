r"""Attend, Infer, Repeat (Eslami et al. 2016, arXiv:1603.08575).

| Paper | Function |
| --- | --- |
| Section 3.1, multi-digit scenes | `data.make_scenes`, `data.test_scenes` |
| Eq. (1), count prior (truncated geometric) | `model.log_p_pres`, `model.count_prior` |
| Section 3.1, decoder and canvas | `model.decode`, `model.render`, `model.log_likelihood` |
| Section 2.1, guide step | `guide.presence_and_where`, `guide.encode`, `guide.sample_z_pres` |
| Eq. (2), masked pass over the steps | `objective.air_pass` |
| Section 2.2, ELBO | `objective.elbo` |
| Section 2.2, learning signals | `objective.learning_signals` |
| Section 2.2, baselines | `objective.neural_baseline`, `objective.leave_one_out_baseline` |
| Section 2.2, surrogate loss | `objective.surrogate_loss` |
| Training and inference | `training.fit`, `training.infer` |
| Section 3.1, measures | `measures.count_accuracy`, `measures.localisation_error`, |
| | `measures.reconstruction_mse` |
| Section 3.1, supervised counter | `supervised.fit_supervised` |
| Section 2.2, estimator variance | `variance.score_gradient_samples`, `variance.total_variance` |
| Section 3.2, renderer and its smooth twin | `renderer.render`, `renderer.render_smooth` |
| Section 3.2, inference through the renderer | `scene3d.fit_air3d`, `scene3d.fit_supervised3d` |

Pose convention: $z^{\text{where}} = (s, x, y)$ of the shared spatial transformer (object centre
$(x, y)$, side $s$, canvas units); the paper's $(s', x', y')$ is $s = 1/s'$, $x = -x'/s'$,
$y = -y'/s'$.
"""

from .data import CANVAS, TEST_SEED, digit_pool, make_scenes, test_scenes
from .guide import embed, encode, gaussian_kl, guide_init, presence_and_where, sample_z_pres
from .measures import (confusion_matrix, count_accuracy, localisation_error, reconstruct,
                       reconstruction_mse, where_to_pixels, evaluate_counting)
from .model import AIRConfig, count_prior, decode, decoder_init, log_likelihood, log_p_pres, render
from .objective import (air_pass, baseline_init, draw_noise, elbo, learning_signals,
                        leave_one_out_baseline, loss_parts, neural_baseline, surrogate_loss)
from .supervised import count_logits, fit_supervised, predict_counts
from .training import cache_dir, fit, infer, init_params, load_params, save_params
from .variance import score_gradient, score_gradient_samples, total_variance

__all__ = [
    "CANVAS", "TEST_SEED", "digit_pool", "make_scenes", "test_scenes",
    "AIRConfig", "log_p_pres", "count_prior", "decoder_init", "decode", "render",
    "log_likelihood",
    "guide_init", "embed", "presence_and_where", "encode", "sample_z_pres", "gaussian_kl",
    "draw_noise", "air_pass", "elbo", "learning_signals", "baseline_init", "neural_baseline",
    "leave_one_out_baseline", "loss_parts", "surrogate_loss",
    "init_params", "fit", "infer", "cache_dir", "save_params", "load_params",
    "count_accuracy", "confusion_matrix", "where_to_pixels", "localisation_error",
    "reconstruct", "reconstruction_mse", "evaluate_counting",
    "count_logits", "fit_supervised", "predict_counts",
    "score_gradient", "score_gradient_samples", "total_variance",
]
