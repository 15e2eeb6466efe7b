"""Neural Statistician: 1-D families, spatial digit sets with summarisation, Omniglot few-shot.

Four jobs run in two worker processes (one BLAS thread each):

1. the 1-D families of Section 5.1 (moment ceiling, family probes on the context, bound per
   item against the one-Gaussian-per-set level), then the spatial point sets of Section 5.2
   with and without the prior-interpolation layer, and greedy summarisation against random
   subsets;
2. Omniglot (Section 5.3): a Bernoulli Neural Statistician and a plain autoencoder trained on
   the background alphabets, scored on 5- and 20-way 1- and 5-shot episodes of the evaluation
   alphabets and on Lake et al.'s 20 runs, beside nearest neighbour on pixels and on the
   autoencoder's code, with a learning curve (the one-shot accuracies at a few checkpoints of
   the same training run, on the same episodes as the final scores);
3. the same Omniglot model with a convolutional shared encoder and an upsampling-convolution
   decoder (the paper's kinds of network, at our size), trained for about the MLP model's CPU
   time and scored on the same episodes;
4. the MLP model trained on sets of 1 to 5 drawings instead of 5 (our earlier default), for as
   many steps as one checkpoint of the learning curve, scored on the same episodes.

Training lengths are fixed step counts (``_STEPS``), the same on any machine, so a run is
reproducible from its seed; the number of steps is reported with the metrics. Measured cost
(CPU seconds per training step, one BLAS thread, this 2-core machine): families 0.020-0.026,
mixture decoder 0.013, point sets 0.098 (0.114 with prior interpolation), Omniglot 0.058
(MLP networks, sets of 5, with the learning curve's scoring; 0.031 for sets of 1-5), 0.21 with
the convolutional networks. The full run took 47 minutes of wall time on the 2-core machine
while a third process shared it; on two idle cores expect about 35 to 40 (the Omniglot job and
the sets job first, the convolutional and set-size arms as those end).
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np

TABLE = [
    ("families_accuracy", "1-D families: 5-NN probe on the context mean, held-out sets",
     "— (Figure 2 shows separated clusters)"),
    ("families_logistic", "1-D families: logistic-regression probe on the context mean", "—"),
    ("families_moments_ceiling", "1-D families: 5-NN on standardised moments 3-6 (ceiling)", "—"),
    ("families_elbo_per_item", "1-D families: held-out bound per item (nats)", "—"),
    ("families_gaussian_nll", "1-D families: one Gaussian per set, nats per item", "—"),
    ("families_true_nll", "1-D families: true densities, nats per item", "—"),
    ("families_steps", "1-D families: training steps done", "—"),
    ("families_alpha_accuracy", "1-D families, re-weighting schedule (alpha0 = 1): 5-NN probe",
     "—"),
    ("families_alpha_elbo_per_item", "1-D families, re-weighting schedule: bound per item", "—"),
    ("families_alpha_steps", "1-D families, re-weighting schedule: training steps done", "—"),
    ("families_mixture_accuracy", "1-D families, mixture decoder without z: 5-NN probe", "—"),
    ("families_mixture_logistic", "1-D families, mixture decoder without z: logistic probe",
     "—"),
    ("families_mixture_elbo_per_item", "1-D families, mixture decoder: bound per item", "—"),
    ("families_mixture_steps", "1-D families, mixture decoder: training steps done", "—"),
    ("spatial_elbo_interp", "Digit point sets: held-out bound per point, prior interpolation",
     "—"),
    ("spatial_elbo_plain", "Digit point sets: held-out bound per point, without it", "—"),
    ("spatial_steps", "Digit point sets: training steps of each arm", "—"),
    ("summary_kl_greedy", "Summaries of 6 points: KL(q(c|D) || q(c|S)), greedy", "—"),
    ("summary_kl_random", "Summaries of 6 points: same KL for random subsets", "—"),
    ("omniglot_5way_1shot", "Omniglot 5-way 1-shot (evaluation alphabets)", "98.1% (Table 1)"),
    ("omniglot_5way_5shot", "Omniglot 5-way 5-shot", "99.5% (Table 1)"),
    ("omniglot_20way_1shot", "Omniglot 20-way 1-shot", "93.2% (Table 1)"),
    ("omniglot_20way_5shot", "Omniglot 20-way 5-shot", "98.1% (Table 1)"),
    ("lake_20way_1shot", "Lake et al.'s 20 within-alphabet runs, 20-way 1-shot", "—"),
    ("pixel_5way_1shot", "Nearest neighbour on pixels, 5-way 1-shot", "—"),
    ("pixel_20way_1shot", "Nearest neighbour on pixels, 20-way 1-shot", "—"),
    ("pixel_lake_20way_1shot", "Nearest neighbour on pixels, Lake's runs", "—"),
    ("autoencoder_5way_1shot", "Nearest neighbour on autoencoder code, 5-way 1-shot", "—"),
    ("autoencoder_20way_1shot", "Nearest neighbour on autoencoder code, 20-way 1-shot", "—"),
    ("autoencoder_lake_20way_1shot", "Nearest neighbour on autoencoder code, Lake's runs", "—"),
    ("omniglot_steps", "Omniglot: training steps done", "—"),
    ("omniglot_curve_steps", "Omniglot learning curve: checkpoints (training steps)", "—"),
    ("omniglot_curve_5way_1shot", "Omniglot 5-way 1-shot at each checkpoint", "—"),
    ("omniglot_curve_20way_1shot", "Omniglot 20-way 1-shot at each checkpoint", "—"),
    ("omniglot_curve_lake", "Lake's runs at each checkpoint", "—"),
    ("omniglot_cpu_s", "Omniglot: CPU seconds of training (with the checkpoints)", "—"),
    ("conv_5way_1shot", "Convolutional encoder and decoder: Omniglot 5-way 1-shot", "—"),
    ("conv_20way_1shot", "Convolutional encoder and decoder: 20-way 1-shot", "—"),
    ("conv_lake_20way_1shot", "Convolutional encoder and decoder: Lake's runs", "—"),
    ("conv_steps", "Convolutional encoder and decoder: training steps done", "—"),
    ("conv_cpu_s", "Convolutional encoder and decoder: CPU seconds of training", "—"),
    ("varsize_5way_1shot", "Sets of 1-5 drawings instead of 5: Omniglot 5-way 1-shot", "—"),
    ("varsize_20way_1shot", "Sets of 1-5 drawings: 20-way 1-shot", "—"),
    ("varsize_lake_20way_1shot", "Sets of 1-5 drawings: Lake's runs", "—"),
    ("varsize_steps", "Sets of 1-5 drawings: training steps (a learning-curve checkpoint)", "—"),
    ("omniglot_context_kl_5", "Omniglot: KL(q(c|D) || p(c)) of a set of 5 evaluation drawings, "
     "nats", "—"),
    ("omniglot_context_kl_1", "Omniglot: the same KL for a single drawing, nats", "—"),
    ("varsize_context_kl_5", "Sets of 1-5 drawings: KL of a set of 5, nats", "—"),
    ("varsize_context_kl_1", "Sets of 1-5 drawings: KL of a single drawing, nats", "—"),
]

# training steps per arm (and evaluation episodes): full run / quick run
_STEPS = {
    False: {"families": 10000, "families_mixture": 10000, "spatial": 2000,
            "omniglot": 20000, "autoencoder": 1500, "episodes": 300,
            "curve": (0, 1000, 3000, 10000), "conv": 5000, "varsize": 10000},
    True: {"families": 300, "families_mixture": 300, "spatial": 100,
           "omniglot": 150, "autoencoder": 100, "episodes": 20, "curve": (0,),
           "conv": 40, "varsize": 50},
}

# the convolutional arm: encoder blocks of 32 filters, a decoder map of 16 channels (about four
# times the MLP model's cost per step, so a quarter of its steps)
_CONV_NETWORKS = {"conv_width": 32, "deconv_width": 16}
# the paper's model (one Gaussian item latent, Gaussian decoder), at CPU size
_FAMILIES_MODEL = {"hidden": 32, "z_dim": 4}
_MIXTURE_LR = 3e-3
# Omniglot: MLP networks, sets of 5 drawings (the paper's), the faster of our trial settings
_OMNIGLOT_MODEL = {"hidden": 128, "batch_sets": 16, "step_size": 3e-3, "c_dim": 64,
                   "z_dim": 16, "max_set_size": 5, "min_set_size": 5}
# the ablation: a set size drawn from 1-5 at every step (our earlier default)
_VARSIZE = {**_OMNIGLOT_MODEL, "min_set_size": 1}
# our ablation: no item latent, a 5-component mixture decoder p(x | c)
_FAMILIES_MIXTURE = {"hidden": 32, "n_layers": 0, "likelihood": "mixture", "n_components": 5}


def _sets_worker(quick: bool, seed: int) -> dict:
    from reference.neural_statistician import (families_experiment, spatial_experiment,
                                               statistic_network, summarise)
    from reference.neural_statistician.objective import gaussian_kl

    b = _STEPS[quick]
    out = {}
    sizes = {"n_train_sets": 2000 if quick else 10000, "n_test_sets": 200 if quick else 1000,
             "train_set_size": 50}
    fam = families_experiment(np.random.default_rng(seed), n_steps=b["families"],
                              model_kwargs=_FAMILIES_MODEL, **sizes)
    out.update({"families_accuracy": fam["knn5"], "families_logistic": fam["logistic"],
                "families_moments_ceiling": fam["moments_knn5"],
                "families_elbo_per_item": fam["elbo_per_item"],
                "families_gaussian_nll": fam["gaussian_nll"],
                "families_true_nll": fam["true_nll"], "families_steps": fam["steps"],
                "families_seconds": fam["seconds"]})
    mix = families_experiment(np.random.default_rng(seed), n_steps=b["families_mixture"],
                              model_kwargs=_FAMILIES_MIXTURE, step_size=_MIXTURE_LR, **sizes)
    alpha = families_experiment(np.random.default_rng(seed), n_steps=b["families"],
                                model_kwargs=_FAMILIES_MODEL, alpha0=1.0, **sizes)
    out.update({"families_alpha_accuracy": alpha["knn5"],
                "families_alpha_elbo_per_item": alpha["elbo_per_item"],
                "families_alpha_steps": alpha["steps"]})
    out.update({"families_mixture_accuracy": mix["knn5"],
                "families_mixture_logistic": mix["logistic"],
                "families_mixture_elbo_per_item": mix["elbo_per_item"],
                "families_mixture_steps": mix["steps"]})
    runs = {flag: spatial_experiment(np.random.default_rng(seed + 1), n_steps=b["spatial"],
                                     prior_interpolation=flag) for flag in (False, True)}
    out["spatial_steps"] = runs[False]["steps"]
    out["spatial_elbo_interp"] = runs[True]["elbo_per_point"]
    out["spatial_elbo_plain"] = runs[False]["elbo_per_point"]
    params, test = runs[False]["params"], runs[False]["test"]["D"][:40]
    rng = np.random.default_rng(seed + 2)
    greedy, random = [], []
    for D in test:
        D = D.astype(np.float32)
        mu_D, lv_D = statistic_network(params, D[None])
        greedy.append(summarise(params, D, 6)["kl"][-1])
        for _ in range(5):
            mu, lv = statistic_network(params, D[rng.choice(len(D), 6, replace=False)][None])
            random.append(float(gaussian_kl(mu_D, lv_D, mu, lv)[0]))
    out["summary_kl_greedy"] = float(np.mean(greedy))
    out["summary_kl_random"] = float(np.mean(random))
    return out


def _omniglot_data():
    from reference.datasets.omniglot import load_lake_runs, load_omniglot

    background = load_omniglot("background")["images"].astype(np.float32)
    return background, load_omniglot("evaluation")["images"], load_lake_runs()


def _episodes(clf, evaluation, seed, n_episodes, n_way, k_shot):
    """Accuracy on evaluation-alphabet episodes, the same episodes for every method."""
    from reference.neural_statistician import episode_accuracy

    rng = np.random.default_rng(seed + 100 * n_way + k_shot)
    return episode_accuracy(clf, evaluation, n_way, k_shot, n_episodes, rng, n_query=1)


def _context_kl(params, evaluation, seed, set_size):
    """Mean KL(q(c | D) || p(c)) in nats over 200 evaluation sets of ``set_size`` drawings."""
    from reference.neural_statistician import omniglot_batch, statistic_network
    from reference.neural_statistician.objective import gaussian_kl

    rng = np.random.default_rng(seed + 7)
    D = omniglot_batch(evaluation, rng, 200, set_size, rotations=False)
    mu, logvar = statistic_network(params, D.astype(params["post_pool"][0]["W"].dtype))
    return float(np.mean(gaussian_kl(mu, logvar)))


def _omniglot_worker(quick: bool, seed: int) -> dict:
    from reference.neural_statistician import (autoencoder_classifier, classify, fit,
                                               fit_autoencoder, lake_accuracy,
                                               nearest_neighbour)

    b = _STEPS[quick]
    background, evaluation, runs = _omniglot_data()
    episodes = functools.partial(_episodes, evaluation=evaluation, seed=seed,
                                 n_episodes=b["episodes"])

    # the learning curve: one-shot accuracies at a few checkpoints during training
    curve = {"steps": [], "5way_1shot": [], "20way_1shot": [], "lake": []}

    def checkpoint(step, p, loss):
        if step in b["curve"]:
            clf = functools.partial(classify, p)
            curve["steps"].append(step)
            curve["5way_1shot"].append(episodes(clf, n_way=5, k_shot=1))
            curve["20way_1shot"].append(episodes(clf, n_way=20, k_shot=1))
            curve["lake"].append(lake_accuracy(clf, runs))

    cpu = time.process_time()
    params, hist = fit(background, np.random.default_rng(seed), n_steps=b["omniglot"],
                       log=checkpoint, **_OMNIGLOT_MODEL)
    cpu = time.process_time() - cpu                # training and the checkpoints' scoring
    if curve["steps"] != list(b["curve"]):     # `fit` logs every 250 steps: step 0 and multiples
        raise RuntimeError(f"learning-curve checkpoints {b['curve']} were not all logged "
                           f"(got {curve['steps']}); use multiples of 250")
    ae = fit_autoencoder(background, np.random.default_rng(seed + 1), n_steps=b["autoencoder"])
    methods = {"omniglot": functools.partial(classify, params),
               "pixel": nearest_neighbour, "autoencoder": autoencoder_classifier(ae)}
    out = {"omniglot_steps": hist["steps_done"], "omniglot_seconds": hist["seconds"],
           "omniglot_cpu_s": cpu}
    for n in (1, 5):
        out[f"omniglot_context_kl_{n}"] = _context_kl(params, evaluation, seed, n)
    for name, clf in methods.items():
        shots = ((5, 1), (5, 5), (20, 1), (20, 5)) if name == "omniglot" else ((5, 1), (20, 1))
        for n_way, k_shot in shots:
            out[f"{name}_{n_way}way_{k_shot}shot"] = episodes(clf, n_way=n_way, k_shot=k_shot)
        key = "lake_20way_1shot" if name == "omniglot" else f"{name}_lake_20way_1shot"
        out[key] = lake_accuracy(clf, runs)
    # the curve ends with the final model's numbers
    out["omniglot_curve_steps"] = curve["steps"] + [hist["steps_done"]]
    out["omniglot_curve_5way_1shot"] = curve["5way_1shot"] + [out["omniglot_5way_1shot"]]
    out["omniglot_curve_20way_1shot"] = curve["20way_1shot"] + [out["omniglot_20way_1shot"]]
    out["omniglot_curve_lake"] = curve["lake"] + [out["lake_20way_1shot"]]
    return out


def _conv_worker(quick: bool, seed: int) -> dict:
    """The same model with convolutional encoder and decoder, at about the MLP's CPU time."""
    from reference.neural_statistician import classify, fit, lake_accuracy

    b = _STEPS[quick]
    background, evaluation, runs = _omniglot_data()
    cpu = time.process_time()
    params, hist = fit(background, np.random.default_rng(seed), n_steps=b["conv"],
                       **_OMNIGLOT_MODEL, **_CONV_NETWORKS)
    out = {"conv_steps": hist["steps_done"], "conv_cpu_s": time.process_time() - cpu}
    clf = functools.partial(classify, params)
    for n_way in (5, 20):
        out[f"conv_{n_way}way_1shot"] = _episodes(clf, evaluation, seed, b["episodes"], n_way, 1)
    out["conv_lake_20way_1shot"] = lake_accuracy(clf, runs)
    return out


def _varsize_worker(quick: bool, seed: int) -> dict:
    """The MLP model on sets of 1-5 drawings, for as many steps as a learning-curve checkpoint."""
    from reference.neural_statistician import classify, fit, lake_accuracy

    b = _STEPS[quick]
    background, evaluation, runs = _omniglot_data()
    params, hist = fit(background, np.random.default_rng(seed), n_steps=b["varsize"],
                       **_VARSIZE)
    out = {"varsize_steps": hist["steps_done"]}
    for n in (1, 5):
        out[f"varsize_context_kl_{n}"] = _context_kl(params, evaluation, seed, n)
    clf = functools.partial(classify, params)
    for n_way in (5, 20):
        out[f"varsize_{n_way}way_1shot"] = _episodes(clf, evaluation, seed, b["episodes"],
                                                     n_way, 1)
    out["varsize_lake_20way_1shot"] = lake_accuracy(clf, runs)
    return out


def _call(args):
    name, quick, seed = args
    worker = {"sets": _sets_worker, "omniglot": _omniglot_worker, "conv": _conv_worker,
              "varsize": _varsize_worker}[name]
    return worker(quick, seed)


def run(quick: bool = False, seed: int = 0) -> dict:
    """Run the four workers (in two processes) and merge their metrics into one flat dict."""
    import multiprocessing as mp

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # inherited by the spawned workers
    # longest first: Omniglot, then the sets job; the two shorter arms start when each ends
    jobs = [("omniglot", quick, seed), ("sets", quick, seed), ("conv", quick, seed),
            ("varsize", quick, seed)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        parts = pool.map(_call, jobs, chunksize=1)
    metrics = {}
    for part in parts:
        metrics.update(part)
    return metrics
