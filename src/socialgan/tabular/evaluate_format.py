"""The evaluation report of :mod:`socialgan.tabular.evaluate` as the Markdown tables that
``socialgan accounts evaluate`` prints."""

from __future__ import annotations

from typing import Any

__all__ = ["format_report"]

WORST = 3  # columns and pairs named as the weakest


def _num(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _quality(q: dict[str, Any]) -> list[str]:
    pairs = q.get("pairs", [])
    counted = [p for p in pairs if p["counts"] and p["score"] is not None]
    lines = [
        f"Quality ({q['backend']}; 1 = alike, 0 = disjoint)",
        "| property | score |",
        "|---|---|",
        f"| overall | {_num(q['quality'])} |",
        f"| column shapes ({len(q['columns'])} columns) | {_num(q['column_shapes'])} |",
        f"| column pair trends ({len(counted)} of {len(pairs)} pairs with a real trend) | "
        f"{_num(q['column_pair_trends'])} |",
    ]
    shapes = sorted(
        ((c, s) for c, s in q["columns"].items() if s is not None), key=lambda item: item[1]
    )
    if shapes:
        shown = ", ".join(f"{c} {s:.3f}" for c, s in shapes[:WORST])
        lines.append(f"weakest column shapes: {shown}")
    if counted:
        worst = sorted(counted, key=lambda p: p["score"])[:WORST]
        lines.append(
            "weakest pair trends: "
            + ", ".join(f"{a} x {b} {p['score']:.3f}" for p in worst for a, b in [p["columns"]])
        )
    return lines


def _efficacy(e: dict[str, Any]) -> list[str]:
    if "synthetic" not in e:
        return [f"ML efficacy: skipped ({e['skipped']})"]
    lines = [
        f"ML efficacy on the held-out rows (label {e['label']!r}, F1 of {e['positive']!r} at 0.5)",
        "| trained on | F1 (mean) | GBM F1 | LR F1 | GBM AUC | LR AUC |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("synthetic", "real"):
        r = e[name]
        lines.append(
            f"| {name} rows | {_num(r['f1'])} | {_num(r['gbm']['f1'])} | {_num(r['lr']['f1'])} "
            f"| {_num(r['gbm']['auc'])} | {_num(r['lr']['auc'])} |"
        )
    return lines


def _privacy(p: dict[str, Any]) -> list[str]:
    lines = [
        f"Privacy ({p['rows']:,} rows of each kind; distances on min-max numbers + one-hot)",
        "| | synthetic rows | held-out real rows |",
        "|---|---|---|",
        f"| median distance to the closest training row | {_num(p['dcr_synthetic_median'], 3)} "
        f"| {_num(p['dcr_holdout_median'], 3)} |",
        f"| exact copies of a training row | {_num(p['exact_copies'], 3)} "
        f"| {_num(p['holdout_exact_in_train'], 3)} |",
        f"membership-attack AUC: {_num(p['membership_auc'], 3)} (0.5: no leak, 1: every "
        "training row recognized)",
    ]
    warnings = p.get("warnings") or []
    lines += [f"WARNING: {w}" for w in warnings] or ["no privacy warning"]
    return lines


def format_report(report: dict[str, Any]) -> str:
    """The report as text: a header, the quality, efficacy and privacy tables, the files."""
    m, d, t, rows = report["model"], report["data"], report["timing"], report["rows"]
    fit = t.get("fit_seconds")
    lines = [
        f"model: {m['path'] or m['model_type']} ({m['steps']:,} steps, fitted on "
        f"{m['training_rows'] or '?'} rows)",
        f"data: {d.get('source', '?')}: {rows['train']:,} training rows; held out: "
        f"{rows['held_out']:,} rows ({d.get('holdout', 'given')})",
    ]
    lines += [f"WARNING: {w}" for w in d.get("warnings", [])]
    lines.append(
        f"synthetic: {rows['synthetic']:,} rows (seed {report['seed']}) sampled in "
        f"{t['sample_seconds']:.2f} s ({t['sample_cpu_seconds']:.2f} CPU s); fit: "
        + (
            f"{fit:.0f} s (training loop, from the run folder)"
            if fit is not None
            else "not recorded"
        )
    )
    for section in (_quality(report["quality"]), _efficacy(report["efficacy"])):
        lines += ["", *section]
    lines += ["", *_privacy(report["privacy"])]
    files = [*report.get("plots", {}).values(), report.get("report")]
    shown = [f for f in files if f]
    if shown:
        lines += ["", "files: " + ", ".join(shown)]
    return "\n".join(lines)
