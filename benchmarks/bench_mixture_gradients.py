"""Benchmark: sample + implicit gradient of Graves (2016) against its references and a peer.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mixture_gradients.py [--n 10000] [--repeats 5]

For N samples at (D, K) = (2, 3), (16, 10), (64, 10) it measures the best of ``repeats``
CPU times (``time.process_time``, through ``reference.testing.best_time``,
so other jobs on a shared machine barely move them) of:

- ``sample``: ``reference.mixture_gradients.mixture_sample`` alone (no gradient);
- ``sample+grad``: the same plus the VJP of a random linear function of the samples with
  respect to logits, means and scales (autograd through the implicit gradient);
- ``log_pdf``: ``reference.mixture_gradients.mixture_log_pdf`` at the same samples, as shipped
  (two matrix products, with the direct form only where they would cancel), and
  ``direct``: the direct form (an (N, K, D) temporary) that it replaced. The cheap-gradient
  principle says the gradient should cost a small multiple of the log-density;
- ``tfp``: TensorFlow Probability's ``MixtureSameFamily(reparameterize=True)`` on JAX, jitted,
  float64, sample + gradient, when installed (``pip install -e ".[bench]"``), and its ratio to
  ours.

Everything runs in one process, so the ratios are comparable; absolute times are not.
"""

import argparse

from reference.reproduce.mixture_gradients import time_ours, time_tfp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"N = {args.n}, best of {args.repeats} CPU times; times in ms")
    print(f"{'D':>3} {'K':>3} {'sample':>8} {'s+grad':>8} {'log_pdf':>8} {'direct':>8} "
          f"{'grad/log_pdf':>12} {'grad/direct':>11} {'grad/sample':>11} {'tfp':>9} "
          f"{'tfp/ours':>8}")
    for D, K in [(2, 3), (16, 10), (64, 10)]:
        t = time_ours(D, K, N=args.n, repeats=args.repeats)
        peer = time_tfp(D, K, N=args.n, repeats=args.repeats)
        tfp = f"{peer * 1e3:9.1f} {peer / t['sample_and_grad']:8.2f}" if peer else \
            f"{'n/a':>9} {'n/a':>8}"
        sg = t["sample_and_grad"]
        print(f"{D:3d} {K:3d} {t['sample'] * 1e3:8.1f} {sg * 1e3:8.1f} "
              f"{t['log_pdf'] * 1e3:8.1f} {t['log_pdf_direct'] * 1e3:8.1f} "
              f"{sg / t['log_pdf']:12.2f} {sg / t['log_pdf_direct']:11.2f} "
              f"{sg / t['sample']:11.1f} {tfp}")
    if time_tfp(2, 3, N=10, repeats=1) is None:
        print('TFP/JAX not installed: pip install -e ".[bench]" to add the peer.')


if __name__ == "__main__":
    main()
