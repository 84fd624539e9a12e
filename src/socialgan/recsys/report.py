"""Plain-text tables of recommender results, with their protocol above them."""

from __future__ import annotations

from collections.abc import Sequence

from .evaluate import Result

__all__ = ["format_results"]

COLUMNS = (
    ("R@10", "recall@10"),
    ("N@10", "ndcg@10"),
    ("P@10", "precision@10"),
    ("P@20", "precision@20"),
    ("R@20", "recall@20"),
    ("N@20", "ndcg@20"),
    ("MRR@10", "mrr@10"),
    ("Hit@10", "hit@10"),
    ("Cov@10", "coverage@10"),
    ("Pop@10", "popularity@10"),
)


def _params(params: dict[str, object]) -> str:
    shown = {k: v for k, v in params.items() if k not in ("progress", "solver", "seed")}
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())


def format_results(results: Sequence[Result], protocol: str = "") -> str:
    """One row per model: test metrics, the validation NDCG@10 that chose its configuration,
    the fit time, and the configuration."""
    head = ["model", *(c for c, _ in COLUMNS), "valid N@10", "fit s", "configuration"]
    rows = []
    for r in results:
        rows.append(
            [
                r.name,
                *(f"{r.test.get(key, float('nan')):.4f}" for _, key in COLUMNS),
                f"{r.valid.get('ndcg@10', float('nan')):.4f}",
                f"{r.fit_s:.1f}",
                _params(r.params),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = [protocol] if protocol else []
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)
