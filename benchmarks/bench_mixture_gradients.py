"""Benchmark: sample + implicit gradient of Graves (2016) against its references and a peer.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mixture_gradients.py [--n 10000] [--repeats 5]

For N samples at (D, K) = (2, 3), (16, 10), (64, 10) it times (best of ``repeats``):

- ``sample``: :func:`reference.mixture_gradients.mixture_sample` alone (no gradient);
- ``sample+grad``: the same plus the VJP of a random linear function of the samples with
  respect to logits, means and scales (autograd through the implicit gradient);
- ``log_pdf``: :func:`reference.mixture_gradients.mixture_log_pdf` at the same samples, the
  same O(N K D) work: the cheap-gradient principle says the gradient should cost a small
  multiple of it (target: at most 3x);
- ``tfp``: TensorFlow Probability's ``MixtureSameFamily(reparameterize=True)`` on JAX, jitted,
  float64, sample + gradient, when installed (``pip install -e ".[bench]"``); targets: at least
  4x slower than ours at (16, 10) and not faster at (2, 3).

Everything runs in one process, so the ratios are comparable even on a busy machine; absolute
times are not.
"""

import argparse

from reference.reproduce.mixture_gradients import time_ours, time_tfp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"N = {args.n}, best of {args.repeats}; times in ms")
    print(f"{'D':>3} {'K':>3} {'sample':>8} {'s+grad':>8} {'log_pdf':>8} "
          f"{'grad/log_pdf':>12} {'grad/sample':>11} {'tfp':>9} {'tfp/ours':>8}")
    for D, K in [(2, 3), (16, 10), (64, 10)]:
        t = time_ours(D, K, N=args.n, repeats=args.repeats)
        peer = time_tfp(D, K, N=args.n, repeats=args.repeats)
        tfp = f"{peer * 1e3:9.1f} {peer / t['sample_and_grad']:8.2f}" if peer else \
            f"{'n/a':>9} {'n/a':>8}"
        print(f"{D:3d} {K:3d} {t['sample'] * 1e3:8.1f} {t['sample_and_grad'] * 1e3:8.1f} "
              f"{t['log_pdf'] * 1e3:8.1f} {t['sample_and_grad'] / t['log_pdf']:12.2f} "
              f"{t['sample_and_grad'] / t['sample']:11.1f} {tfp}")
    if time_tfp(2, 3, N=10, repeats=1) is None:
        print('TFP/JAX not installed: pip install -e ".[bench]" to add the peer.')


if __name__ == "__main__":
    main()
