"""``socialgan text ...``: train, run and evaluate text moderation detectors."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import typer

from ..cli_util import user_errors
from ..config_io import dump, resolve
from ..errors import DataError
from .data import DEFAULT_MAX_CHARS, NAMED_SOURCES, TextDataset, load_named, load_source
from .detect.presets import preset_for, with_leaky_counts

app = typer.Typer(
    help="Text moderation and generation: detect spam, deceptive reviews, fake news and "
    "machine-made posts; train text generators and measure what they write.",
    no_args_is_help=True,
)

DATA_HELP = (
    "Named data set (" + ", ".join(NAMED_SOURCES) + ") or a CSV/TSV/JSONL file with a text "
    "column and a label column."
)
SET_HELP = "Override one detector option, e.g. --set detector.C=0.5 (repeatable)."
#: Named sources with official splits: models fit on train and are scored on these.
_EVAL_SPLITS = {"liar": ("valid", "test"), "tweepfake": ("validation", "test")}


def _eval_splits(data: str) -> tuple[str, ...]:
    """The held-out splits of ``data`` when it names an official training split."""
    base, _, split = data.partition(":")
    return _EVAL_SPLITS.get(base, ()) if split in ("", "train") else ()


#: ``--detector`` choices.
DETECTOR_KINDS = ("tfidf", "stacked", "charcnn", "ssgan", "minilm")


def _kind_class(kind: str) -> Any:
    """The detector class of a ``--detector`` kind other than tfidf."""
    if kind == "stacked":
        from .detect.stacked import StackedDetector

        return StackedDetector
    if kind == "charcnn":
        from .detect.neural import CharCNNDetector

        return CharCNNDetector
    if kind == "ssgan":
        from .detect.ssgan import SSGANDetector

        return SSGANDetector
    if kind == "minilm":
        from .detect.finetuned import MiniLMDetector

        return MiniLMDetector
    raise DataError(f"--detector must be one of {', '.join(DETECTOR_KINDS)}, not {kind!r}")


LEAKY_HELP = (
    "LIAR only: add the five credit-history counts to the metadata. They LEAK the label "
    "(as distributed they count the statement's own verdict), so scores with them are not "
    "comparable with published LIAR results. Off by default."
)


#: Options that several commands share (typer copies an option for each command).
OPTIONS: dict[str, Any] = {
    "data": typer.Option(..., "--data", "-d", help=DATA_HELP),
    "text_column": typer.Option("text", help="Text column of a user file."),
    "label_column": typer.Option("label", help="Label column of a user file."),
    "detector": typer.Option(
        "tfidf",
        "--detector",
        help="tfidf (word+char TF-IDF, linear model), stacked (text and metadata models "
        "combined out-of-fold; LIAR), charcnn (byte CNN + hashed n-grams), ssgan "
        "(semi-supervised GAN discriminator) or minilm (all-MiniLM-L6-v2 fine-tuned; "
        "needs the text extra; slow on a CPU).",
    ),
    "config": typer.Option(None, "--config", "-c", help="YAML file with a detector section."),
    "set": typer.Option([], "--set", help=SET_HELP),
    "leaky_counts": typer.Option(False, "--leaky-credit-counts", help=LEAKY_HELP),
    "max_chars": typer.Option(DEFAULT_MAX_CHARS, help="Longest text accepted."),
}


def default_config(source: str, kind: str = "tfidf", leaky: bool = False) -> dict[str, Any]:
    """Every detector option with its default, plus the named data set's preset (TF-IDF).

    ``leaky`` adds LIAR's credit-history counts to the preset's metadata columns."""
    if leaky and source.partition(":")[0] != "liar":
        raise DataError(f"--leaky-credit-counts applies to the liar data set, not {source!r}")
    if kind == "stacked":
        params = _kind_class(kind)().json_params()
        params.update(preset_for(source).get("stacked", {}))
        if leaky:
            params["meta_columns"] = with_leaky_counts(params.get("meta_columns"))
        return {"detector": {"kind": kind, **params}}
    if kind != "tfidf":
        params = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in _kind_class(kind)().get_params().items()
        }
        return {"detector": {"kind": kind, **params}}
    from .detect.classic import TfidfDetector

    params = TfidfDetector().json_params()
    params.update(preset_for(source).get("detector", {}))
    if leaky:
        params["meta_columns"] = with_leaky_counts(params.get("meta_columns"))
    return {"detector": params}


def build_detector(params: dict[str, Any]):
    """A detector from the ``detector`` section of a resolved config (``kind`` picks the
    class: TF-IDF by default)."""
    from .detect.classic import TfidfDetector

    params = dict(params)
    kind = params.pop("kind", "tfidf")
    if kind == "stacked" and not params.get("meta_columns"):
        raise DataError(
            "the stacked detector combines text and metadata: name the metadata columns, "
            "e.g. --set 'detector.meta_columns=[speaker, party]'"
        )
    if kind != "tfidf":
        cls = _kind_class(kind)
        try:
            return cls(**params)
        except TypeError as exc:
            raise DataError(f"bad {kind} detector option: {exc}") from exc
    for key in ("word_ngrams", "char_ngrams"):
        value = params.get(key)
        if value is not None:
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise DataError(f"detector.{key} must be a pair like [1, 2] or null, not {value!r}")
            params[key] = tuple(int(v) for v in value)
    return TfidfDetector(**params)


#: Attacks whose outputs are added to the training data by ``--harden``.
ADVERSARIAL_ATTACKS = ("leet", "homoglyph", "zero_width", "spacing", "synonym", "mixed")


def _load(
    data: str,
    text_column: str,
    label_column: str,
    max_chars: int,
    echo: bool = True,
    group_column: str | None = None,
) -> TextDataset:
    dataset = load_source(
        data, text_column, label_column, group_column=group_column, max_chars=max_chars
    )
    if echo:
        counts = ", ".join(f"{k} {v:,}" for k, v in dataset.class_counts().items())
        typer.echo(f"data: {dataset.name}, {len(dataset):,} texts ({counts})", err=True)
    return dataset


def _describe(dataset: TextDataset) -> str:
    counts = ", ".join(f"{k}: {v:,}" for k, v in dataset.class_counts().items())
    return f"`{dataset.name}`: {len(dataset):,} texts ({counts})."


@app.command("detect-train")
@user_errors
def detect_train(
    data: str = OPTIONS["data"],
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    text_column: str = OPTIONS["text_column"],
    label_column: str = OPTIONS["label_column"],
    category: str = typer.Option(
        None, help="Moderation category name (default: spam, deceptive, fake_news ...)."
    ),
    cv: int = typer.Option(
        5, help="Folds of the CV whose metrics go into the model card (0: skip)."
    ),
    detector: str = OPTIONS["detector"],
    config: Path = OPTIONS["config"],
    set_: list[str] = OPTIONS["set"],
    leaky_counts: bool = OPTIONS["leaky_counts"],
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config and exit."),
    max_chars: int = OPTIONS["max_chars"],
    harden: bool = typer.Option(
        False,
        "--harden",
        help="Resist disguised text: Unicode/look-alike/leetspeak normalization before "
        "scoring, and adversarial training on attacked copies of the flagged class.",
    ),
) -> None:
    """Train a detector (--detector, TF-IDF by default) on all of DATA; save it to OUT.

    The folder gets config.json, model.safetensors and a README.md model card with
    cross-validated metrics (LIAR: its valid and test splits instead). With --harden the
    model also gets normalization.json and is trained on attacked copies as well.
    """
    from .detect.evaluation import classification_metrics, cross_validate

    cfg = resolve(default_config(data, detector, leaky_counts), config, list(set_))
    if dry_run:
        typer.echo(dump(cfg))
        return
    dataset = _load(data, text_column, label_column, max_chars)
    positive = cfg["detector"].get("positive_labels")
    if category is None:
        category = preset_for(data).get("category")
    if category is None and dataset.num_classes == 2:
        category = (positive or [dataset.label_names[1]])[0]
    if category is None or (dataset.num_classes > 2 and not positive):
        raise DataError(
            f"{dataset.name} has {dataset.num_classes} labels ({', '.join(dataset.label_names)}): "
            "name the flagged ones, e.g. --set 'detector.positive_labels=[a, b]', and --category"
        )
    build_detector(cfg["detector"])  # fail on bad options before the long part

    def make() -> Any:
        det = build_detector(cfg["detector"])
        if not harden:
            return det
        from .attack.hardening import NormalizingDetector

        return NormalizingDetector(det, adversarial=ADVERSARIAL_ATTACKS)

    metrics: dict[str, Any] = {}
    if _eval_splits(data):
        base = data.partition(":")[0]
        det = make().fit(dataset)
        for split in _eval_splits(data):
            test = load_named(f"{base}:{split}", max_chars=max_chars)
            proba = det.predict_proba(test)
            for k, v in classification_metrics(test.labels, proba, proba.argmax(1)).items():
                metrics[f"{split}_{k}"] = v
        metrics["protocol"] = (
            f"fit on {base}:train, scored on the official {'/'.join(_eval_splits(data))} splits"
        )
    else:
        if cv:
            result = cross_validate(dataset, make, cv=cv)
            metrics = {f"cv_{m}": result[m] for m in ("accuracy", "macro_f1", "auc")}
            metrics["protocol"] = result["protocol"]
        t0 = time.perf_counter()
        det = make().fit(dataset)
        typer.echo(
            f"trained on {len(dataset):,} texts in {time.perf_counter() - t0:.1f}s", err=True
        )
    det.flagged_indices()  # positive_labels must name real labels
    det.save_pretrained(out, metrics=metrics, data=_describe(dataset), category=category)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    typer.echo(f"model: {out} (category {category!r}; socialgan text detect TEXT --model {out})")


def _parse_thresholds(items: list[str], categories: list[str]) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            t = float(value)
        except ValueError:
            raise DataError(f"--threshold {item!r}: expected a number or CATEGORY=NUMBER") from None
        for c in [name] if sep else categories:
            out[c] = t
    return out


def _read_records(path: Path, text_column: str, max_chars: int) -> list[dict[str, Any]]:
    """One record per non-blank line: ``{"line", "text", "meta"}`` or ``{"line", "error"}``."""
    from .readers import parse_post, read_utf8

    jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")
    return [
        parse_post(
            line.rstrip("\r"), lineno, text_column=text_column, max_chars=max_chars, jsonl=jsonl
        )
        for lineno, line in enumerate(read_utf8(path).split("\n"), 1)
        if line.strip()
    ]


def _moderate_quietly(X: Any, detectors: dict[str, Any], thresholds: dict[str, float]):
    """``moderate`` with each distinct warning (e.g. missing metadata) as one stderr line."""
    from .detect.moderation import moderate

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = moderate(X, detectors, thresholds)
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {message}", file=sys.stderr)
    return results


@app.command()
@user_errors
def detect(
    text: str = typer.Argument(None, help="A text to score (or use --file)."),
    model: list[Path] = typer.Option(
        ..., "--model", "-m", help="Model folder from detect-train (repeat for more categories)."
    ),
    file: Path = typer.Option(
        None, "--file", "-f", help="JSONL (one object or string per line) or a .txt file."
    ),
    threshold: list[str] = typer.Option(
        [],
        "--threshold",
        "-t",
        help="0.7 for all categories or spam=0.7 (repeatable); default: each model's stored "
        "threshold.",
    ),
    text_column: str = typer.Option("text", help="Field holding the text in JSONL objects."),
    max_chars: int = OPTIONS["max_chars"],
) -> None:
    """Score texts; prints one JSON line per text in the moderation-API shape.

    {"flagged", "categories", "category_scores", "model", "thresholds"}. With --file a bad
    line gets {"line": N, "error": "..."} and the other lines are still scored.
    """
    import pandas as pd

    from .attack.hardening import load_text_detector
    from .detect.moderation import resolve_thresholds, stored_thresholds

    if (text is None) == (file is None):
        raise DataError("give either a TEXT argument or --file, not both or neither")
    detectors = {}
    for folder in model:
        det = load_text_detector(folder)
        cat = det.category_ or Path(folder).name
        if cat in detectors:
            raise DataError(f"{folder}: a second model for category {cat!r}")
        detectors[cat] = det
    thresholds = resolve_thresholds(
        list(detectors),
        _parse_thresholds(list(threshold), list(detectors)),
        defaults=stored_thresholds(detectors),
    )
    if text is not None:
        if not text.strip() or len(text) > max_chars:
            raise DataError(f"TEXT must be non-empty and at most {max_chars:,} characters")
        typer.echo(json.dumps(_moderate_quietly([text], detectors, thresholds)[0]))
        return
    records = _read_records(file, text_column, max_chars)
    good = [r for r in records if "error" not in r]
    results: list[dict[str, Any]] = []
    if good:
        frame = pd.DataFrame([r["meta"] for r in good]).reset_index(drop=True)
        frame["text"] = [r["text"] for r in good]
        results = _moderate_quietly(frame, detectors, thresholds)
    scored = iter(results)
    for rec in records:
        head = {k: rec[k] for k in ("line", "id") if k in rec}
        if "error" in rec:
            typer.echo(json.dumps({**head, "error": rec["error"]}))
        else:
            typer.echo(json.dumps({**head, **next(scored)}))
    bad = len(records) - len(good)
    if bad:
        print(f"warning: {bad} of {len(records)} lines could not be scored", file=sys.stderr)


@app.command()
@user_errors
def evaluate(
    data: str = OPTIONS["data"],
    text_column: str = OPTIONS["text_column"],
    label_column: str = OPTIONS["label_column"],
    cv: int = typer.Option(
        None, help="Stratified K-fold CV (default 10; LIAR default: its official splits)."
    ),
    lovo: bool = typer.Option(
        False,
        "--lovo",
        help="Leave one video (group) out instead of K-fold: youtube-spam's videos, or "
        "--group-column of a user file.",
    ),
    group_column: str = typer.Option(None, help="Group column of a user file (for --lovo)."),
    transductive: bool = typer.Option(
        False,
        "--transductive",
        help="Unsupervised domain adaptation: give the detector each held-out fold's texts "
        "without their labels (tfidf: self-training, see detector.self_training_threshold "
        "and detector.self_training_rounds). Mostly with --lovo: adapts to the unseen video.",
    ),
    seed: int = typer.Option(0, help="Seed of the fold shuffling."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    detector: str = OPTIONS["detector"],
    config: Path = OPTIONS["config"],
    set_: list[str] = OPTIONS["set"],
    leaky_counts: bool = OPTIONS["leaky_counts"],
    max_chars: int = OPTIONS["max_chars"],
) -> None:
    """Cross-validate a detector (--detector): accuracy, macro F1 and AUC with the protocol.

    AUC is ROC AUC for two classes and one-vs-rest macro AUC for more. With
    --transductive each fold's detector also sees the held-out texts, unlabeled.
    """
    from .detect.evaluation import cross_validate, evaluate_split, format_table

    cfg = resolve(default_config(data, detector, leaky_counts), config, list(set_))
    dataset = _load(data, text_column, label_column, max_chars, False, group_column)
    make = lambda: build_detector(cfg["detector"])  # noqa: E731
    make()
    if lovo:
        result = cross_validate(dataset, make, groups=True, seed=seed, transductive=transductive)
    elif _eval_splits(data) and cv is None:
        if transductive:
            raise DataError("--transductive works with cross-validation: add --cv or --lovo")
        base = data.partition(":")[0]
        tests = {s: load_named(f"{base}:{s}", max_chars=max_chars) for s in _eval_splits(data)}
        result = evaluate_split(dataset, tests, make)
    else:
        result = cross_validate(
            dataset, make, cv=10 if cv is None else cv, seed=seed, transductive=transductive
        )
    result["detector"] = repr(make())
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"detector: {result['detector']}")
        typer.echo(format_table(result))


# ``socialgan text generate-train | generate | evaluate-generator`` (text generators)
from .generate.cli import register as _register_generation  # noqa: E402

_register_generation(app)
