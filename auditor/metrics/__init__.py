"""Metrics: the one place where scores become figures (ROC, TPR at FPR, epsilon bounds,
utility and fairness). `membership` is the only caller of `roc_curve`."""
