"""Reference values of P(alive at T + h | x, t_x, T) for BG/NBD, MBG/NBD and Pareto/NBD.

Independent of acrm's closed forms: each probability is a ratio of two integrals over the
*prior* of the individual parameters (no posterior algebra, no hypergeometric function),

    P = ∫∫ L_alive(θ) · P(still alive after h | θ, alive at T) prior(θ) dθ
        / ∫∫ L(θ) prior(θ) dθ,

with L = L_alive + L_dead the likelihood of the history given the individual parameters
(alive at T, or dropped out after the last purchase), and the future survival given the
parameters: e^(−λph) for (M)BG/NBD (a dropout coin with probability p at each Poisson(λ)
purchase), e^(−μh) for Pareto/NBD (exponential lifetime). Integrated with
scipy.integrate.dblquad (λ on (0, ∞) split at its likelihood peak).

Run with the venv /tmp/acrm-pyenv (scipy):
    /tmp/acrm-pyenv/bin/python tests/data/prospecting/base/make_reference.py
writes p_alive_after.json next to this script.
"""
import json
import math
import os

import scipy
from scipy import integrate
from scipy.special import gammaln, betaln

CASES = {
    # FHL 2005 CDNOW estimates (weeks).
    "bgnbd": [0.243, 4.414, 0.793, 2.426],
    # Batislam et al. 2007-style values, as in acrm's MBG/NBD doc example.
    "mbgnbd": [0.525, 6.183, 0.891, 1.614],
    # FHL 2005 Pareto/NBD CDNOW estimates.
    "pareto": [0.553, 10.578, 0.606, 11.669],
}
HISTORIES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 35.0, 38.0), (1, 2.0, 30.0)]
HORIZONS = [4.0, 52.0]


def log_gamma_pdf(x, shape, rate):
    return shape * math.log(rate) - gammaln(shape) + (shape - 1) * math.log(x) - rate * x


def log_beta_pdf(p, a, b):
    return (a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - betaln(a, b)


def integrate2(f, lam_peak, inner_hi):
    """∫₀^inner_hi dq ∫₀^∞ dλ f(λ, q), λ split at the peak for accuracy."""
    total = 0.0
    for lo, hi in [(0.0, lam_peak), (lam_peak, 20 * lam_peak + 1.0), (20 * lam_peak + 1.0, math.inf)]:
        v, _ = integrate.dblquad(
            lambda lam, q: f(lam, q), 0.0, inner_hi, lo, hi, epsabs=0.0, epsrel=1e-11
        )
        total += v
    return total


def bg(params, x, t_x, t, h, modified):
    r, alpha, a, b = params
    extra = 1 if modified else 0
    scale = x * math.log((r + x) / (alpha + t)) - (r + x)  # keeps the integrand near 1

    def alive(lam, p, future):
        if lam <= 0 or p <= 0 or p >= 1:
            return 0.0
        lg = (log_gamma_pdf(lam, r, alpha) + log_beta_pdf(p, a, b) + x * math.log(lam)
              - lam * t + (x + extra) * math.log1p(-p) - scale)
        return math.exp(lg - (lam * p * h if future else 0.0))

    def dead(lam, p):
        if lam <= 0 or p <= 0 or p >= 1 or (x == 0 and not modified):
            return 0.0
        lg = (log_gamma_pdf(lam, r, alpha) + log_beta_pdf(p, a, b) + x * math.log(lam)
              - lam * t_x + math.log(p) + (x - 1 + extra) * math.log1p(-p) - scale)
        return math.exp(lg)

    peak = max((r + x) / (alpha + t), 1e-3)
    num = integrate2(lambda lam, p: alive(lam, p, True), peak, 1.0)
    den = integrate2(lambda lam, p: alive(lam, p, False) + dead(lam, p), peak, 1.0)
    return num / den


def pareto(params, x, t_x, t, h):
    r, alpha, s, beta = params
    scale = x * math.log((r + x) / (alpha + t)) - (r + x)

    def lik(lam, mu, future):
        if lam <= 0 or mu <= 0:
            return 0.0
        head = log_gamma_pdf(lam, r, alpha) + log_gamma_pdf(mu, s, beta) + x * math.log(lam) - scale
        alive = math.exp(head - (lam + mu) * t - (mu * h if future else 0.0))
        if future:
            return alive
        k = lam + mu
        # μ/(λ+μ) [e^(−k t_x) − e^(−k T)]: death between t_x and T.
        dead = math.exp(head + math.log(mu / k) - k * t_x) * -math.expm1(-k * (t - t_x)) if t > t_x else 0.0
        return alive + dead

    peak = max((r + x) / (alpha + t), 1e-3)
    # μ on (0, ∞): substitute μ = q/(1−q), q in (0, 1).
    def f(future):
        return lambda lam, q: lik(lam, q / (1 - q), future) / (1 - q) ** 2 if 0 < q < 1 else 0.0
    num = integrate2(f(True), peak, 1.0)
    den = integrate2(f(False), peak, 1.0)
    return num / den


def main():
    out = {"source": f"scipy {scipy.__version__} dblquad over the prior (make_reference.py)", "cases": []}
    for model, params in CASES.items():
        for (x, t_x, t) in HISTORIES:
            for h in [0.0] + HORIZONS:
                if model == "pareto":
                    v = pareto(params, x, t_x, t, h)
                else:
                    v = bg(params, x, t_x, t, h, model == "mbgnbd")
                out["cases"].append({"model": model, "params": params, "x": x, "t_x": t_x,
                                     "t": t, "h": h, "p_alive_after": v})
                print(model, x, t_x, t, h, v)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "p_alive_after.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
