"""Reference numbers for acrm's Bass diffusion fit (tests/it/bass.rs).

Writes, next to this script:
- series.csv: 30 periods of new customers (columns t,new_customers) drawn as Poisson
  counts around a planted Bass curve p = 0.005, q = 0.25, m = 5000 (numpy
  default_rng(20261206));
- clean.csv: the exact period sales m(F(t) - F(t-1)) of p = 0.03, q = 0.38, m = 1000
  for t = 1..20, written with 17 significant digits (the planted-recovery test);
- reference.json: for the noisy series,
  * "nls": scipy.optimize.curve_fit (Levenberg-Marquardt, MINPACK, finite-difference
    Jacobian, ftol = xtol = gtol = 1e-15, absolute_sigma=False) on
    sales(t) = m(F(t) - F(t-1)), started at the OLS estimates: p, q, m, their standard
    errors and covariance (pcov), SSE, RMSE = sqrt(SSE/n), peak time and rate, and
    forecast bands by a numeric delta method (central differences of the sales and
    cumulative curves in p, q, m) with the Student t quantile of n - 3 degrees of
    freedom: sales prediction band +- t sqrt(g' C g + s^2), s^2 = SSE/(n - 3);
    cumulative confidence band +- t sqrt(g' C g);
  * "ols": statsmodels OLS of S_t on 1, N_{t-1}, N_{t-1}^2 (Bass 1969): a, b, c, their
    standard errors, rss, r2; p, q, m from the roots; their standard errors by the
    numeric delta method on the regression covariance; the Bass curve's SSE and RMSE at
    those p, q, m; forecast bands as above with s^2 = rss/(n - 3).
  A cross-check with scipy.optimize.least_squares (analytic Jacobian, TRF) is printed.

Run: /tmp/acrm-pyenv/bin/python make_reference.py
"""
import json
import os

import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from scipy.optimize import curve_fit, least_squares
from scipy.stats import t as student_t

HERE = os.path.dirname(os.path.abspath(__file__))
HORIZON = 10
CONFIDENCE = 0.95


def F(t, p, q):
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def sales(t, p, q, m):
    return m * (F(t, p, q) - F(t - 1.0, p, q))


def cumulative(t, p, q, m):
    return m * F(t, p, q)


def num_grad(fun, theta):
    """Central differences of fun(theta) (a vector) in each parameter."""
    theta = np.asarray(theta, dtype=float)
    cols = []
    for i in range(len(theta)):
        h = 1e-5 * abs(theta[i])
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        cols.append((fun(up) - fun(dn)) / (2 * h))
    return np.column_stack(cols)


def bands(theta, cov, s2, n, t_future):
    tq = student_t.ppf(0.5 + CONFIDENCE / 2, n - 3)
    gs = num_grad(lambda th: sales(t_future, *th), theta)
    gc = num_grad(lambda th: cumulative(t_future, *th), theta)
    vs = np.einsum("ij,jk,ik->i", gs, cov, gs)
    vc = np.einsum("ij,jk,ik->i", gc, cov, gc)
    s = sales(t_future, *theta)
    c = cumulative(t_future, *theta)
    rows = []
    for k, tt in enumerate(t_future):
        half = tq * np.sqrt(vs[k] + s2)
        halfc = tq * np.sqrt(vc[k])
        rows.append(
            {
                "t": float(tt),
                "sales": float(s[k]),
                "cumulative": float(c[k]),
                "se": float(np.sqrt(vs[k])),
                "low": float(s[k] - half),
                "high": float(s[k] + half),
                "cumulative_low": float(c[k] - halfc),
                "cumulative_high": float(c[k] + halfc),
            }
        )
    return rows


def peak(p, q, m):
    return float(np.log(q / p) / (p + q)), float(m * (p + q) ** 2 / (4 * q))


def ols_fit(t, y):
    n_before = np.concatenate([[0.0], np.cumsum(y)[:-1]])
    X = sm.add_constant(np.column_stack([n_before, n_before**2]))
    res = sm.OLS(y, X).fit()
    a, b, c = res.params

    def pqm(abc):
        a, b, c = abc
        m = (-b - np.sqrt(b * b - 4 * a * c)) / (2 * c)
        return np.array([a / m, -c * m, m])

    theta = pqm(res.params)
    J = num_grad(pqm, res.params)
    cov = J @ res.cov_params() @ J.T
    return res, theta, cov


def main():
    rng = np.random.default_rng(20261206)
    t = np.arange(1, 31, dtype=float)
    planted = (0.005, 0.25, 5000.0)
    y = rng.poisson(sales(t, *planted)).astype(float)
    with open(os.path.join(HERE, "series.csv"), "w") as f:
        f.write("t,new_customers\n")
        for tt, yy in zip(t, y):
            f.write(f"{int(tt)},{int(yy)}\n")

    tc = np.arange(1, 21, dtype=float)
    clean_planted = (0.03, 0.38, 1000.0)
    yc = sales(tc, *clean_planted)
    with open(os.path.join(HERE, "clean.csv"), "w") as f:
        f.write("t,new_customers\n")
        for tt, yy in zip(tc, yc):
            f.write(f"{int(tt)},{yy:.17g}\n")

    n = len(y)
    t_future = np.arange(n + 1, n + 1 + HORIZON, dtype=float)

    # Bass (1969) OLS.
    res, theta_ols, cov_ols = ols_fit(t, y)
    s2_ols = res.ssr / (n - 3)
    sse_ols = float(np.sum((y - sales(t, *theta_ols)) ** 2))
    pt, pr = peak(*theta_ols)
    ols = {
        "a": float(res.params[0]),
        "b": float(res.params[1]),
        "c": float(res.params[2]),
        "se_a": float(res.bse[0]),
        "se_b": float(res.bse[1]),
        "se_c": float(res.bse[2]),
        "rss": float(res.ssr),
        "r2": float(res.rsquared),
        "p": float(theta_ols[0]),
        "q": float(theta_ols[1]),
        "m": float(theta_ols[2]),
        "se": dict(zip("pqm", map(float, np.sqrt(np.diag(cov_ols))))),
        "covariance": cov_ols.ravel().tolist(),
        "sse": sse_ols,
        "rmse": float(np.sqrt(sse_ols / n)),
        "peak_time": pt,
        "peak_rate": pr,
        "forecast": bands(theta_ols, cov_ols, s2_ols, n, t_future),
    }

    # Srinivasan & Mason (1986) NLS with scipy curve_fit.
    popt, pcov = curve_fit(
        sales, t, y, p0=theta_ols, method="lm", ftol=1e-15, xtol=1e-15, gtol=1e-15,
        maxfev=100000,
    )
    sse = float(np.sum((y - sales(t, *popt)) ** 2))
    pt, pr = peak(*popt)
    nls = {
        "p": float(popt[0]),
        "q": float(popt[1]),
        "m": float(popt[2]),
        "se": dict(zip("pqm", map(float, np.sqrt(np.diag(pcov))))),
        "covariance": pcov.ravel().tolist(),
        "sse": sse,
        "rmse": float(np.sqrt(sse / n)),
        "peak_time": pt,
        "peak_rate": pr,
        "forecast": bands(popt, pcov, sse / (n - 3), n, t_future),
    }

    # Cross-check: least_squares with an analytic Jacobian from another start.
    def jac(theta):
        return num_grad(lambda th: sales(t, *th), theta)

    ls = least_squares(
        lambda th: sales(t, *th) - y, x0=[0.01, 0.2, 4000.0], jac=jac, method="trf",
        x_scale=[0.01, 0.1, 1000.0], ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=10000,
    )
    print("curve_fit:", popt, "least_squares:", ls.x, "rel diff:",
          np.max(np.abs(ls.x / popt - 1)))

    # Clean series: curve_fit recovers the planted values.
    pc, _ = curve_fit(sales, tc, yc, p0=[0.01, 0.3, 800.0], method="lm", ftol=1e-15,
                      xtol=1e-15, gtol=1e-15, maxfev=100000)
    print("clean recovered:", pc, "rel err:", np.max(np.abs(pc / clean_planted - 1)))

    out = {
        "source": "make_reference.py: scipy %s curve_fit, statsmodels %s OLS, numpy %s"
        % (scipy.__version__, statsmodels.__version__, np.__version__),
        "horizon": HORIZON,
        "confidence": CONFIDENCE,
        "planted_noisy": dict(zip("pqm", planted)),
        "planted_clean": dict(zip("pqm", clean_planted)),
        "nls": nls,
        "ols": ols,
    }
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: nls[k] for k in ("p", "q", "m", "se", "sse", "rmse")}))
    print(json.dumps({k: ols[k] for k in ("a", "b", "c", "r2", "p", "q", "m")}))


if __name__ == "__main__":
    main()
