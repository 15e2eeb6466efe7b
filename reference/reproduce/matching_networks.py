r"""Train matching networks on Omniglot and score the paper's protocol and Lake et al.'s 20 runs.

``python -m reference.reproduce matching_networks [--quick] [--seed N]`` runs these arms of
`reference.matching_networks` (Conv-4 of width 32, float32, learned cosine scale, 20-way
one-shot training episodes with all four rotations as classes) on `WORKERS` processes,
each with one BLAS thread and its own ``np.random.default_rng``:

- ``paper``: the paper's protocol: a seeded random split of the 1,623 characters into 1,200
  for training and 423 for testing; 5/20-way 1/5-shot accuracy over 1,000 test episodes each
  (original orientation), with 95% Wilson intervals; also within-alphabet 5-way episodes on
  the same test side and the batch-norm mode with population statistics;
- ``lake`` (two seeds): trained on the 30 background alphabets only, scored on Lake et al.'s
  20 runs through ``classify`` alone (episode and population batch-norm statistics), and on
  1,000 within-alphabet 20-way one-shot episodes of the evaluation alphabets; fine-tuned on
  each run's support set (`finetune_matching`, 10 steps), and on 20-way 5-shot evaluation
  episodes with and without that fine-tuning (the same episodes); N-way one-shot episodes with
  N = 100 and 1,000 drawn from the 659 x 4 rotated evaluation classes; the second seed also
  trains the ordinary-classifier baseline (its features for nearest neighbour, for exemplar
  linear classifiers and for a new softmax head fine-tuned on the support set, alone or with
  the last block);
- variants at equal, shorter training on the paper split, scored on 20-way one-shot: the
  paper's kernel without a scale, a dot product, a negative squared distance, FCE, FCE with
  the order-invariant set encoder ``set_g`` in place of the bidirectional LSTM, and the
  default as their control.

Every training image of the Lake models is checked against the 800 run images (the count of
identical images is reported and must be 0). Parameters are saved as ``.npz`` under
``reference.matching_networks.cache_dir()`` (never committed).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from .. import matching_networks as mn

__all__ = ["WORKERS", "SETTINGS", "run_arm", "run", "TABLE"]

WORKERS = 2
WIDTH = 32
FT_STEPS = 10
#: (episodes of the main models, of the variants, test episodes, classifier steps)
SETTINGS = {False: (7000, 2000, 1000, 2000), True: (150, 60, 40, 40)}
VARIANTS = {
    "default": {},
    "no_scale": {"scale": False},
    "dot": {"similarity": "dot"},
    "neg_sqdist": {"similarity": "neg_sqdist"},
    "fce": {"fce": True},
    "fce_set": {"fce": "set"},
}


def _data():
    bg, ev = mn.load_images("background"), mn.load_images("evaluation")
    return bg, ev, mn.load_images("runs")


def _paper_split(bg, ev, seed):
    names = ([f"background/{a}/{c}" for a, c in zip(bg["alphabets"], bg["characters"])]
             + [f"evaluation/{a}/{c}" for a, c in zip(ev["alphabets"], ev["characters"])])
    images = np.concatenate([bg["images"], ev["images"]])
    alphabets = bg["alphabets"] + ev["alphabets"]
    split = mn.split_characters(names, 1200, seed)
    return images, alphabets, split


def _suffix(quick):
    return "_quick" if quick else ""


def _clf(params, bn="episode"):
    return lambda s, l, q: mn.classify(params, s, l, q, bn=bn)


def _curve(history, bins=10):
    losses = np.array([h[1] for h in history])
    return [float(c.mean()) for c in np.array_split(losses, min(bins, len(losses)))]


def run_arm(arm, seed, quick):
    r"""Run one arm (``"paper"``, ``"lake"``, ``"lake2"`` or a variant name); returns metrics."""
    with threadpool_limits(limits=1):
        return _run_arm(arm, seed, quick)


def _run_arm(arm, seed, quick):
    n_main, n_var, n_test, n_clf = SETTINGS[quick]
    bg, ev, runs = _data()
    rng = np.random.default_rng(seed * 1000 + sum(map(ord, arm)))
    out, hist = {}, []
    t0 = time.process_time()
    if arm in ("lake", "lake2"):
        params = mn.fit(bg["images"], episodes=n_main, way=20, shot=1, rng=rng, width=WIDTH,
                        history=hist)
        out["train_cpu_s"] = time.process_time() - t0
        mn.save_params(params, mn.cache_dir() / f"reproduce_{arm}_seed{seed}{_suffix(quick)}.npz")
        for bn in ("episode", "running"):
            out[f"lake_{bn}"] = mn.lake_accuracy(_clf(params, bn), runs)["accuracy"]
        within = mn.evaluate(_clf(params), ev["images"], way=20, shot=1, episodes=n_test,
                             rng=rng, alphabets=ev["alphabets"])
        out["eval_within_20way_1shot"] = within["accuracy"]
        out["eval_random_20way_1shot"] = mn.evaluate(
            _clf(params), ev["images"], way=20, shot=1, episodes=n_test, rng=rng)["accuracy"]
        run_images = np.stack([np.concatenate([r["train"], r["test"]]) for r in runs])
        out["leaked_images"] = int(mn.matching_images(bg["images"], run_images).sum())
        out["runs_in_evaluation"] = int(mn.matching_images(run_images, ev["images"]).sum())
        out["loss_curve"] = _curve(hist)
        out.update(_finetune_arm(params, runs, ev, n_test, seed))
        if arm == "lake2":
            clf = mn.fit_classifier(bg["images"], steps=n_clf, rng=rng, width=WIDTH)
            out["classifier_nn_lake"] = mn.lake_accuracy(
                lambda s, l, q: mn.feature_nn(clf, s, l, q), runs)["accuracy"]

            def exemplar(s, l, q):
                e = np.asarray(mn.embed(clf["conv"], np.concatenate([s, q])))
                return mn.exemplar_linear(e[:len(s)], l, e[len(s):])
            out["exemplar_lake"] = mn.lake_accuracy(exemplar, runs)["accuracy"]
            for key, block in (("classifier_head_lake", False),
                               ("classifier_head_block_lake", True)):
                out[key] = mn.lake_accuracy(
                    lambda s, l, q: mn.finetune_head(clf["conv"], s, l, q, last_block=block),
                    runs)["accuracy"]
        return out
    images, alphabets, split = _paper_split(bg, ev, seed)
    train, test = images[split["train"]], images[split["test"]]
    test_alphabets = [alphabets[i] for i in split["test"]]
    if arm == "paper":
        params = mn.fit(train, episodes=n_main, way=20, shot=1, rng=rng, width=WIDTH,
                        history=hist)
        out["train_cpu_s"] = time.process_time() - t0
        mn.save_params(params, mn.cache_dir() / f"reproduce_paper_seed{seed}{_suffix(quick)}.npz")
        for way in (5, 20):
            for shot in (1, 5):
                r = mn.evaluate(_clf(params), test, way=way, shot=shot, episodes=n_test, rng=rng)
                key = f"omniglot_{way}way_{shot}shot"
                out[key], out[key + "_ci_low"], out[key + "_ci_high"] = (
                    r["accuracy"], r["ci_low"], r["ci_high"])
        out["within_5way_1shot"] = mn.evaluate(_clf(params), test, way=5, shot=1,
                                               episodes=n_test, rng=rng,
                                               alphabets=test_alphabets)["accuracy"]
        out["running_bn_20way_1shot"] = mn.evaluate(
            _clf(params, "running"), test, way=20, shot=1, episodes=n_test, rng=rng)["accuracy"]
        out["split_seed"], out["split_hash"] = split["seed"], split["hash"]
        out["loss_curve"] = _curve(hist)
        return out
    params = mn.fit(train, episodes=n_var, way=20, shot=1, rng=rng, width=WIDTH, history=hist,
                    **VARIANTS[arm])
    out["train_cpu_s"] = time.process_time() - t0
    out["20way_1shot"] = mn.evaluate(_clf(params), test, way=20, shot=1, episodes=n_test,
                                     rng=rng)["accuracy"]
    out["loss_curve"] = _curve(hist)
    return out


def _finetune_arm(params, runs, ev, n_test, seed):
    """Fine-tuning on the support set, and support sets of 100 and 1,000 classes."""
    out = {}
    rng = np.random.default_rng(seed + 17)

    def tuned(s, l, q):
        return mn.classify(mn.finetune_matching(params, s, l, rng=rng, steps=FT_STEPS), s, l, q)
    out["lake_finetuned"] = mn.lake_accuracy(tuned, runs)["accuracy"]
    n_ft = max(n_test // 25, 2)                 # 40 episodes of 20 queries in the full run
    for key, f in (("eval_20way_5shot", _clf(params)), ("eval_20way_5shot_finetuned", tuned)):
        out[key] = mn.evaluate(f, ev["images"], way=20, shot=5, episodes=n_ft,
                               rng=np.random.default_rng(seed + 23))["accuracy"]
    for way, n in ((100, max(n_test // 50, 2)), (1000, 2)):
        out[f"eval_rot_{way}way_1shot"] = mn.evaluate(
            _clf(params), ev["images"], way=way, shot=1, episodes=n, rotations=(0, 1, 2, 3),
            rng=np.random.default_rng(seed + way))["accuracy"]
    return out


def run(quick: bool = False, seed: int = 0) -> dict:
    """Run every arm on ``WORKERS`` processes and collect a flat dict of metrics."""
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    bg, ev, runs = _data()  # decodes and caches the images once, before the workers start
    pixels = mn.lake_accuracy(mn.pixel_nn, runs)["accuracy"]
    pixels_cos = mn.lake_accuracy(lambda s, l, q: mn.pixel_nn(s, l, q, "cosine"), runs)[
        "accuracy"]
    arms = ["lake2", "paper", "lake"] + list(VARIANTS)  # longest first, for 2 workers
    seeds = {"lake2": seed + 1}
    with ProcessPoolExecutor(WORKERS) as pool:
        futures = {a: pool.submit(run_arm, a, seeds.get(a, seed), quick) for a in arms}
        res = {a: f.result() for a, f in futures.items()}
    p, lk, lk2 = res["paper"], res["lake"], res["lake2"]
    n_main, n_var, n_test, _ = SETTINGS[quick]
    m = {k: p[k] for k in p if k.startswith("omniglot_")}
    m["lake_20way_1shot"] = (lk["lake_episode"] + lk2["lake_episode"]) / 2
    m["lake_seed0"], m["lake_seed1"] = lk["lake_episode"], lk2["lake_episode"]
    m["pixels_nn_lake"] = pixels
    m["pixels_cosine_nn_lake"] = pixels_cos
    m["episodes"] = n_main
    m["variant_episodes"] = n_var
    m["test_episodes"] = n_test
    m["train_cpu_s"] = p["train_cpu_s"]
    m["lake_train_cpu_s"] = lk["train_cpu_s"]
    m["lake_running_bn"] = (lk["lake_running"] + lk2["lake_running"]) / 2
    m["paper_running_bn_20way_1shot"] = p["running_bn_20way_1shot"]
    m["paper_within_5way_1shot"] = p["within_5way_1shot"]
    m["eval_alphabets_within_20way_1shot"] = lk["eval_within_20way_1shot"]
    m["eval_alphabets_random_20way_1shot"] = lk["eval_random_20way_1shot"]
    m["classifier_nn_lake"] = lk2["classifier_nn_lake"]
    m["exemplar_lake"] = lk2["exemplar_lake"]
    for key in ("lake_finetuned", "eval_20way_5shot", "eval_20way_5shot_finetuned",
                "eval_rot_100way_1shot", "eval_rot_1000way_1shot"):
        m[key] = (lk[key] + lk2[key]) / 2
    m["classifier_head_lake"] = lk2["classifier_head_lake"]
    m["classifier_head_block_lake"] = lk2["classifier_head_block_lake"]
    m["leaked_images"] = lk["leaked_images"]
    m["runs_in_evaluation"] = lk["runs_in_evaluation"]
    m["split_seed"], m["split_hash"] = p["split_seed"], p["split_hash"]
    for name in VARIANTS:
        m[f"variant_{name}_20way_1shot"] = res[name]["20way_1shot"]
        m[f"variant_{name}_train_cpu_s"] = res[name]["train_cpu_s"]
    m["loss_curve_paper"] = p["loss_curve"]
    m["loss_curve_lake"] = lk["loss_curve"]
    return m


TABLE = [
    ("omniglot_5way_1shot", "5-way 1-shot, paper's 1,200/423 split", "98.1% (Table 1)"),
    ("omniglot_5way_5shot", "5-way 5-shot, paper's split", "98.9% (Table 1)"),
    ("omniglot_20way_1shot", "20-way 1-shot, paper's split", "93.8% (Table 1)"),
    ("omniglot_20way_5shot", "20-way 5-shot, paper's split", "98.5% (Table 1)"),
    ("paper_within_5way_1shot", "5-way 1-shot within one alphabet, paper's split", "—"),
    ("lake_20way_1shot", "Lake et al.'s 20 runs, background-only model (mean of 2 seeds)",
     "—"),
    ("lake_running_bn", "Lake's runs, batch-norm population statistics", "—"),
    ("eval_alphabets_within_20way_1shot",
     "20-way 1-shot within-alphabet episodes, evaluation alphabets", "—"),
    ("pixels_nn_lake", "Lake's runs, nearest neighbour on 28x28 pixels (L2)", "—"),
    ("classifier_nn_lake", "Lake's runs, nearest neighbour on classifier features", "—"),
    ("exemplar_lake", "Lake's runs, exemplar linear classifiers on classifier features", "—"),
    ("classifier_head_lake",
     "Lake's runs, classifier features + new softmax head fine-tuned on the support set", "—"),
    ("classifier_head_block_lake", "... head and last Conv-4 block fine-tuned", "—"),
    ("lake_finetuned", "Lake's runs, matching network fine-tuned on each support set", "—"),
    ("eval_20way_5shot", "20-way 5-shot, evaluation alphabets, background-only model", "—"),
    ("eval_20way_5shot_finetuned", "... the same episodes, fine-tuned on the support set",
     "—"),
    ("eval_rot_100way_1shot", "100-way 1-shot, rotated evaluation classes", "—"),
    ("eval_rot_1000way_1shot", "1,000-way 1-shot, rotated evaluation classes", "—"),
    ("variant_default_20way_1shot", "Variants (shorter training): cosine with learned scale",
     "—"),
    ("variant_no_scale_20way_1shot", "... the paper's kernel (cosine, no scale)", "—"),
    ("variant_dot_20way_1shot", "... dot product with learned scale", "—"),
    ("variant_neg_sqdist_20way_1shot", "... negative squared distance with learned scale", "—"),
    ("variant_fce_20way_1shot", "... with Full Context Embeddings", "—"),
    ("variant_fce_set_20way_1shot", "... FCE with an order-invariant set encoder for g", "—"),
]
