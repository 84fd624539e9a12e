"""A short ``README.md`` model card for saved text detectors: data, metrics, use, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["NEURAL_LIMITS", "TFIDF_LIMITS", "write_card", "write_model_card"]

TFIDF_LIMITS = (
    "- Bag of n-grams: it scores surface wording, not meaning or facts; paraphrases, new "
    "spam templates, other languages or platforms, and text written to evade it (for "
    "example by a generator) can pass.\n"
    "- Probabilities are Platt-calibrated on the training data's class balance; re-check "
    "thresholds on your own traffic, whose base rate will differ.\n"
    "- Trained on a small public research data set: not a substitute for human review of "
    "the decisions it flags."
)
#: The Limits section of the PyTorch detectors' cards (``CharCNNDetector``, ``SSGANDetector``).
NEURAL_LIMITS = (
    "- Trained from scratch on a small labelled set: it learns surface patterns (bytes, "
    "word n-grams), not meaning or facts; paraphrases, new templates, other languages or "
    "platforms and text written to evade it (for example by a generator) can pass.\n"
    "- Probabilities are softmax outputs, not calibrated; check thresholds on your own "
    "traffic, whose base rate will differ.\n"
    "- Not a substitute for human review of the decisions it flags."
)


def _format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def metrics_section(metrics: dict[str, Any] | None) -> list[str]:
    """A card's Metrics section body: a ``| metric | value |`` table (floats to 4 places),
    or "None recorded."."""
    if not metrics:
        return ["None recorded."]
    return ["| metric | value |", "|---|---|"] + [
        f"| {k} | {_format_metric(v)} |" for k, v in metrics.items()
    ]


def write_card(
    path: str | Path, config: dict[str, Any], model: str, limits: str, also_use: str = ""
) -> Path:
    """Write the card of a detector ``config`` (the dict saved as ``config.json``): ``model``
    is the Model section, ``limits`` the Limits section; ``also_use`` follows the loading
    hint of the Intended use section (e.g. ``" or score with ..."``)."""
    lines = [
        f"# {config['name']}",
        "",
        f"Text detector from `socialgan` ({config['model_type']}). Category: "
        f"`{config.get('category') or 'n/a'}`; labels: {', '.join(config['label_names'])}; "
        f"flagged at a category score >= {config.get('threshold', 0.5):.4g}.",
        "",
        "## Model",
        model,
        "",
        "## Data",
        config.get("data") or "Not recorded.",
        "",
        "## Metrics",
    ]
    lines += metrics_section(config.get("metrics"))
    cls_name = config["model_type"].rsplit(".", 1)[-1]
    lines += [
        "",
        "## Intended use",
        "Ranking or pre-filtering user content for a moderation queue, with a human in the "
        "loop, on text like the training data. Load it with "
        f"`socialgan.load(dir)` or `socialgan.text.{cls_name}.from_pretrained(dir)`{also_use}.",
        "",
        "## Limits",
        limits,
        "",
    ]
    path = Path(path)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_model_card(path: str | Path, config: dict[str, Any]) -> Path:
    """Write the card for a ``TfidfDetector`` ``config`` (the dict saved as ``config.json``)."""
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
    description = (
        f"TF-IDF ({'; '.join(blocks)}; sublinear tf={params['sublinear_tf']}), {model} "
        f"(C={selected.get('C', params['C']):g}), {calib}; {config['n_features']:,} features."
    )
    also_use = " or score with `socialgan text detect TEXT --model DIR`"
    return write_card(path, config, description, TFIDF_LIMITS, also_use)
