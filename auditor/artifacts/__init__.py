"""Artifacts: what a hospital releases, loaded safely. Never imports training code."""

# The artifact kinds, each audited by its own module in `auditor.audit` (their registry
# there must name the same kinds: a test checks it).
KINDS = {
    "model": "a trained classifier (student model, DP model, any model)",
    "dataset": "released records (condensed set, stimuli, any released samples)",
    "weights": "merged weights, optionally with the base model and per-site data vectors",
}
