"""Pictures of model-inversion reconstructions for image models: one small inline SVG per
class (a rectangle per pixel; no script, no network), grey for one channel, RGB for three."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from auditor.report.formatting import as_list, as_mapping

CELL = 8  # pixels per image pixel in the report
MAX_SIDE = 64  # larger images are shown subsampled to at most this many cells a side


def _colours(image: np.ndarray) -> list[list[str]]:
    """(C, H, W) -> an H x W grid of CSS colours, each picture scaled to its own range."""
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    levels = np.round(255 * scaled).astype(int)
    if levels.shape[0] == 3:
        return [
            [f"rgb({r},{g},{b})" for r, g, b in zip(*row, strict=True)]
            for row in levels.transpose(1, 0, 2)
        ]
    grey = levels[0]
    return [[f"rgb({v},{v},{v})" for v in row] for row in grey]


def inversion_pictures(inversion: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per method with pictures: its title and one SVG-ready grid per class."""
    out = []
    for method, figures in sorted(inversion.items()):
        pictures = as_mapping(as_mapping(figures).get("pictures"))
        shape = [int(s) for s in as_list(pictures.get("shape"))]
        if len(shape) != 3 or shape[0] not in (1, 3):
            continue
        grids = []
        for label, values in as_mapping(pictures.get("by_class")).items():
            image = np.asarray(as_list(values), dtype=np.float64)
            if image.size != np.prod(shape) or not np.isfinite(image).all():
                continue
            image = image.reshape(shape)
            step = max(1, -(-max(shape[1:]) // MAX_SIDE))
            colours = _colours(image[:, ::step, ::step])
            cells = [
                {"x": j * CELL, "y": i * CELL, "fill": colour}
                for i, row in enumerate(colours)
                for j, colour in enumerate(row)
            ]
            grids.append(
                {
                    "label": str(label),
                    "width": len(colours[0]) * CELL,
                    "height": len(colours) * CELL,
                    "cells": cells,
                    "cell": CELL,
                }
            )
        if grids:
            out.append({"method": str(method), "grids": grids})
    return out
