"""What a skops file may hold before the auditor loads it: an explicit list of classes,
never a module prefix, and functions only where the user names them.

skops itself trusts scikit-learn's estimator and transformer classes (its default list).
A fitted model also holds helper objects that skops does not trust by default (trees,
boosting predictors, distance metrics, optimiser state); those are listed here one by one,
as they appear in the scikit-learn models the tests save. Anything else is refused: a
prefix such as `sklearn.` or `numpy.` would also admit functions like
`sklearn.datasets.dump_svmlight_file` or `numpy.save`, which a `FunctionTransformer`
calls on the audit's records.

Function-valued parameters (`FunctionTransformer(func=...)` and its `kw_args`, a callable
`kernel` or `metric`) run on every query. They are loaded only when the spec names each
function (`[artifact] trusted_functions`), except the scikit-learn scoring functions of
feature selection below, which compute statistics and act on nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from auditor.errors import fail

# Helper classes of fitted scikit-learn models that skops does not trust by default: data
# containers and numeric state, none of which reads or writes files.
TRUSTED_CLASSES = frozenset(
    {
        "numpy.dtype",
        "numpy.number",
        "numpy.integer",
        "numpy.floating",
        "numpy.bool_",
        "numpy.object_",
        "numpy.str_",
        "numpy.float32",
        "numpy.float64",
        "numpy.int32",
        "numpy.int64",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.compose._column_transformer.make_column_selector",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.utils._bunch.Bunch",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64",
        "sklearn.metrics._dist_metrics.EuclideanDistance32",
        "sklearn.metrics._dist_metrics.ManhattanDistance32",
        "sklearn.metrics._dist_metrics.MinkowskiDistance32",
        "sklearn.metrics._dist_metrics.ChebyshevDistance32",
    }
)

# Feature-selection scores: called at fit time only, pure functions of the arrays given.
TRUSTED_FUNCTIONS = frozenset(
    {
        "sklearn.feature_selection._univariate_selection.f_classif",
        "sklearn.feature_selection._univariate_selection.chi2",
        "sklearn.feature_selection._univariate_selection.f_regression",
        "sklearn.feature_selection._mutual_info.mutual_info_classif",
        "sklearn.feature_selection._mutual_info.mutual_info_regression",
    }
)
_FIX = (
    "if you wrote the pipeline and trust the function, name it in the spec: "
    "[artifact] trusted_functions = [{name!r}] (auditor init --trust-function {name})"
)


def trusted_types(path: Path, untrusted: Iterable[str], named: Iterable[str]) -> list[str]:
    """The types skops reported as untrusted that the auditor trusts: the explicit helper
    classes, the scoring functions and the functions the user named. AuditInputError
    naming the first other type (a function gets the fix that names it)."""
    untrusted = list(untrusted)
    allowed = TRUSTED_CLASSES | TRUSTED_FUNCTIONS | set(named)
    others = sorted(t for t in untrusted if t not in allowed)
    if others:
        first = others[0][:80]
        raise fail(
            str(path),
            "artifact.path",
            f"holds {len(others)} type(s) the auditor does not trust (first: {first}); "
            "loading it could run code that acts on files",
            _FIX.format(name=first) + ", or save a plain scikit-learn estimator with skops",
        )
    return untrusted


def _is_function(value: Any) -> bool:
    """Python and built-in functions, methods, and numpy's ufuncs (not routines to inspect)."""
    return inspect.isroutine(value) or isinstance(value, np.ufunc)


def _qualified(value: Any) -> str:
    module = getattr(value, "__module__", None) or "numpy"
    return f"{module}.{getattr(value, '__name__', type(value).__name__)}"


def check_functions(path: Path, estimator: Any, named: Iterable[str]) -> None:
    """AuditInputError for a function-valued parameter anywhere in a loaded estimator that
    the user did not name (scoring functions of feature selection excepted). A second
    line behind `trusted_types`: a `kw_args` value that is a function was already refused
    there, since skops reports every function it would have to load."""
    allowed = TRUSTED_FUNCTIONS | set(named)
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    for key in sorted(params):
        value = params[key]
        if _is_function(value) and _qualified(value) not in allowed:
            name = _qualified(value)[:80]
            raise fail(
                str(path),
                "artifact.path",
                f"parameter {key[:80]} is the function {name}, which runs on every query",
                _FIX.format(name=name),
            )
