"""Generators a hospital might release a table from, written here because the libraries
that hold them cannot be installed beside this project: SDV and its `copulas` both pin
pandas below 3 (checked against the package index, December 2026).

- `gaussian_copula`: SDV's default single-table synthesizer, in its plain form: each
  column's empirical distribution (categories as intervals of [0, 1] in frequency order),
  a Gaussian copula of their normal scores, samples mapped back through the empirical
  quantiles (so numeric values come from the members' own values, as SDV's empirical
  marginals do).
- `noisy_marginals`: an epsilon-DP generator: each column's histogram (numbers in
  `BINS` equal-width bins over a public range) with Laplace noise of scale 1 / (epsilon /
  columns) per count (a record changes one count of each histogram by one: sequential
  composition over the columns), columns sampled independently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

BINS = 16


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and column.nunique() > 2


def gaussian_copula(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """n records from a Gaussian copula fitted to `frame` (every column, label included)."""
    rng = np.random.default_rng(seed)
    scores, inverse = [], []
    for name in frame.columns:
        column = frame[name]
        if _is_numeric(column):
            ranks = stats.rankdata(column, method="average") / (len(column) + 1)
            values = np.sort(column.to_numpy(dtype=float))
            inverse.append(lambda u, v=values: np.quantile(v, u, method="inverted_cdf"))
        else:
            counts = column.astype(str).value_counts()
            edges = np.r_[0.0, np.cumsum(counts.to_numpy()) / len(column)]
            position = {level: i for i, level in enumerate(counts.index)}
            codes = column.astype(str).map(position).to_numpy()
            ranks = edges[codes] + rng.random(len(column)) * (edges[codes + 1] - edges[codes])
            ranks = np.clip(ranks, 1e-6, 1 - 1e-6)
            levels = np.array(column.drop_duplicates().tolist(), dtype=object)
            by_text = {str(v): v for v in levels}
            originals = np.array([by_text[str(k)] for k in counts.index], dtype=object)

            def back(u: np.ndarray, e: np.ndarray = edges, o: np.ndarray = originals) -> np.ndarray:
                return o[np.clip(np.searchsorted(e, u, side="right") - 1, 0, len(o) - 1)]

            inverse.append(back)
        scores.append(stats.norm.ppf(ranks))
    correlation = np.corrcoef(np.column_stack(scores), rowvar=False)
    draws = rng.multivariate_normal(np.zeros(len(scores)), correlation, size=n, method="eigh")
    uniform = stats.norm.cdf(draws)
    out = {name: inverse[i](uniform[:, i]) for i, name in enumerate(frame.columns)}
    return pd.DataFrame(out).astype(frame.dtypes.to_dict())


def noisy_marginals(
    frame: pd.DataFrame, n: int, epsilon: float, seed: int, ranges: dict[str, tuple]
) -> pd.DataFrame:
    """n records with each column drawn from its epsilon / columns-DP noisy histogram;
    `ranges` are the public bounds of the numeric columns (not read from the records, which
    would spend privacy) and the public levels of the others."""
    rng = np.random.default_rng(seed)
    scale = len(frame.columns) / epsilon  # Laplace scale per count (sensitivity 1)
    out = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(ranges[name][0], float):
            low, high = ranges[name]
            edges = np.linspace(low, high, BINS + 1)
            counts = np.histogram(np.clip(column.to_numpy(float), low, high), edges)[0]
            noisy = np.maximum(counts + rng.laplace(0.0, scale, BINS), 0.0) + 1e-9
            bins = rng.choice(BINS, n, p=noisy / noisy.sum())
            values = edges[bins] + rng.random(n) * (edges[1] - edges[0])
            integral = pd.api.types.is_integer_dtype(column)
            out[name] = np.round(values).astype(column.dtype) if integral else values
        else:
            levels = list(ranges[name])
            counts = column.map({v: i for i, v in enumerate(levels)}).value_counts()
            full = np.array([counts.get(i, 0) for i in range(len(levels))], dtype=float)
            noisy = np.maximum(full + rng.laplace(0.0, scale, len(levels)), 0.0) + 1e-9
            out[name] = np.array(levels, dtype=object)[
                rng.choice(len(levels), n, p=noisy / noisy.sum())
            ]
    return pd.DataFrame(out).astype(frame.dtypes.to_dict())


def public_ranges(population: pd.DataFrame) -> dict[str, tuple]:
    """Bounds and levels from public records (the population), for `noisy_marginals`."""
    out: dict[str, tuple] = {}
    for name in population.columns:
        column = population[name]
        if _is_numeric(column):
            out[name] = (float(column.min()), float(column.max()))
        else:
            out[name] = tuple(column.drop_duplicates().tolist())
    return out


def leaky(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A generator as `[artifact] generate` calls it: a fifth of its records, each numeric
    column moved by a hundredth of a standard deviation (a near-copy)."""
    rng = np.random.default_rng(seed)
    out = table.iloc[rng.choice(len(table), len(table) // 5, replace=False)].copy()
    for name in out.columns:
        if _is_numeric(table[name]):
            sd = float(table[name].std()) or 1.0
            out[name] = out[name].astype(float) + rng.normal(0.0, 0.01 * sd, len(out))
    return out.reset_index(drop=True)


def copula(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`gaussian_copula` as `[artifact] generate` calls it: as many records as it is given."""
    return gaussian_copula(table, len(table), seed)


def counted_leaky(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`leaky`, writing a line per call to the file named by AUDITOR_TEST_GENERATOR_CALLS
    (tests count how often an audit calls the generator)."""
    import os

    calls = os.environ.get("AUDITOR_TEST_GENERATOR_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as handle:
            handle.write(f"{seed}\n")
    return leaky(table, seed)
