"""The ``README.md`` model card of a saved text generator: model, data, metrics, use, limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["GENERATOR_LIMITS", "generator_card"]

#: The Intended use and Limits section of every text generator's card.
GENERATOR_LIMITS = (
    "## Intended use",
    "Research and testing of moderation pipelines: synthetic posts to augment training",
    "data, stress-test detectors (for example machine-text detectors) or study generators.",
    "Load it with `socialgan.load(dir)`; draw texts with `.sample(n, seed=...)`.",
    "",
    "## Limits",
    "- A small language model trained from scratch on the corpus above: it copies that",
    "  corpus's topics, style, errors and biases (including offensive content) and can",
    "  repeat training texts verbatim; it has no knowledge of facts.",
    "- Never use it to deceive people or to post generated text as if a person wrote it.",
    "- Validation NLL is per token of this model's own tokenizer: compare it only between",
    "  models that share the tokenizer (perplexities of other vocabularies differ).",
)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def generator_card(title: str, config: dict[str, Any], extra: Sequence[str] = ()) -> str:
    """The card of a generator whose saved ``config.json`` is ``config``; ``extra`` lines
    end the Model section (a SeqGAN's adversarial training)."""
    params, data = config["params"], config.get("data") or {}
    labels = config.get("label_names") or []
    lines = [
        f"# {title}",
        "",
        f"Text generator from `socialgan` ({config['model_type']}).",
        "",
        "## Model",
        f"- Net: `{params['model']}`, embed {params['embed_dim']}, hidden "
        f"{params['hidden_dim']}, {params['layers']} layer(s), dropout {params['dropout']}",
        f"- Tokenizer: {params['tokenizer_kind']}, {config.get('vocab_size', '?')} ids, "
        f"lowercase: {params['lowercase']}; at most {params['max_tokens']} tokens per text",
        "- Conditional on: " + (", ".join(labels) if labels else "nothing (unconditional)"),
        f"- Training: maximum likelihood (teacher forcing), Adam lr {params['lr']}, batch "
        f"{params['batch_size']}, early stopping on validation NLL, seed {params['seed']}",
        *extra,
        "",
        "## Data",
        f"- {data.get('n_texts', '?')} texts ({data.get('n_train', '?')} train, "
        f"{data.get('n_val', '?')} validation), {data.get('train_tokens', '?')} training tokens",
        "",
        "## Metrics",
    ]
    metrics = config.get("metrics") or {}
    lines += [f"- {k}: {_fmt(v)}" for k, v in metrics.items()] or ["- none recorded"]
    lines += ["", *GENERATOR_LIMITS, ""]
    return "\n".join(lines)
