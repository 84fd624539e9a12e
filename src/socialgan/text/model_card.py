"""A short ``README.md`` model card for saved text detectors: data, metrics, use, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_model_card"]

_LIMITS = (
    "- Bag of n-grams: it scores surface wording, not meaning or facts; paraphrases, new "
    "spam templates, other languages or platforms, and text written to evade it (for "
    "example by a generator) can pass.\n"
    "- Probabilities are Platt-calibrated on the training data's class balance; re-check "
    "thresholds on your own traffic, whose base rate will differ.\n"
    "- Trained on a small public research data set: not a substitute for human review of "
    "the decisions it flags."
)


def _format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def write_model_card(path: str | Path, config: dict[str, Any]) -> Path:
    """Write the card for a detector ``config`` (the dict saved as ``config.json``)."""
    params = config["params"]
    blocks = []
    if params.get("word_ngrams"):
        blocks.append(f"word {tuple(params['word_ngrams'])}-grams")
    if params.get("char_ngrams"):
        blocks.append(f"char_wb {tuple(params['char_ngrams'])}-grams")
    selected = config.get("selected", {})
    if selected.get("style_weight"):
        blocks.append(f"surface-style features (weight {selected['style_weight']:g})")
    if params.get("meta_columns"):
        blocks.append("metadata " + ", ".join(params["meta_columns"]))
    model = {"svm": "linear SVM", "nbsvm": "NB-SVM", "logreg": "logistic regression"}.get(
        params["model"]
    )
    calib = (
        "Platt (sigmoid) calibration" if params["calibration"] == "sigmoid" else "no calibration"
    )
    lines = [
        f"# {config['name']}",
        "",
        f"Text detector from `socialgan` ({config['format']}). Category: "
        f"`{config.get('category') or 'n/a'}`; labels: {', '.join(config['label_names'])}.",
        "",
        "## Model",
        f"TF-IDF ({'; '.join(blocks)}; sublinear tf={params['sublinear_tf']}), {model} "
        f"(C={selected.get('C', params['C']):g}), {calib}; {config['n_features']:,} features.",
        "",
        "## Data",
        config.get("data") or "Not recorded.",
        "",
        "## Metrics",
    ]
    metrics = config.get("metrics") or {}
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_format_metric(v)} |" for k, v in metrics.items()]
    else:
        lines.append("None recorded.")
    lines += [
        "",
        "## Intended use",
        "Ranking or pre-filtering user content for a moderation queue, with a human in the "
        "loop, on text like the training data. Load it with "
        "`socialgan.text.TfidfDetector.from_pretrained(dir)` or score with "
        "`socialgan text detect TEXT --model DIR`.",
        "",
        "## Limits",
        _LIMITS,
        "",
    ]
    path = Path(path)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
