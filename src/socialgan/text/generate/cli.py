"""``socialgan text generate-train | generate | evaluate-generator``: train a text generator,
write texts with it, and measure what it writes.

Registered on the ``text`` Typer app by :func:`register` (see ``socialgan/text/cli.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from socialgan.cli_util import user_errors
from socialgan.config_io import dump, resolve
from socialgan.errors import DataError

#: ``--model`` choices -> ``"module:Class"`` (imported only when used).
GENERATORS = {
    "mle": "socialgan.text.generate.mle:MLETextGenerator",
    "seqgan": "socialgan.text.generate.seqgan:SeqGANTextGenerator",
    "relgan": "socialgan.text.generate.relgan:RelGANTextGenerator",
}
_DATA_HELP = (
    "Named data set (e.g. airline:train, tweepfake:train) or a CSV/TSV/JSONL file with a "
    "text column."
)


def generator_class(kind: str) -> Any:
    """The generator class of a ``--model`` choice."""
    import importlib

    if kind not in GENERATORS:
        raise DataError(f"--model must be one of {', '.join(GENERATORS)}, not {kind!r}")
    module, _, name = GENERATORS[kind].partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise DataError(f"the {kind} generator is not available in this version") from None


def _texts_and_labels(
    data: str, text_column: str, label_column: str | None, conditional: bool
) -> tuple[list[str], list[str] | None, str]:
    """Texts of ``data`` and, for a conditional model, their class names."""
    from socialgan.text.data import NAMED_SOURCES, load_source
    from socialgan.text.readers import read_table

    if data.partition(":")[0] in {s.partition(":")[0] for s in NAMED_SOURCES}:
        ds = load_source(data)
        labels = [ds.label_names[i] for i in ds.labels] if conditional else None
        return list(ds.texts), labels, ds.name
    path = Path(data)
    if not path.exists():
        raise DataError(f"{data}: no such file, and not a named data set")
    table = read_table(path)
    table.require(text_column)
    texts = [str(t) if t is not None else "" for t in table.column(text_column)]
    labels = None
    if conditional or label_column:
        column = label_column or "label"
        table.require(column)
        labels = [str(v) for v in table.column(column)]
    return texts, labels, path.name


def _default_config(kind: str, arch: str) -> dict[str, Any]:
    cls = generator_class(kind)
    gen = cls(arch) if kind == "mle" else cls()
    params = gen.get_params()
    if kind == "relgan":  # its adversarial loop's TrainConfig options, settable too
        from socialgan.text.generate.relgan_settings import ADVERSARIAL_DEFAULTS

        params.update(
            {k: list(v) if isinstance(v, tuple) else v for k, v in ADVERSARIAL_DEFAULTS.items()}
        )
    return {"generator": {"kind": kind, **params}}


def register(app: typer.Typer) -> None:
    """Add the generation commands to the ``text`` app."""

    @app.command("generate-train")
    @user_errors
    def generate_train(
        data: str = typer.Option(..., "--data", "-d", help=_DATA_HELP),
        model: str = typer.Option(
            "mle",
            "--model",
            help="mle (maximum-likelihood language model), seqgan (policy-gradient GAN) or "
            "relgan (Gumbel-softmax GAN).",
        ),
        arch: str = typer.Option("gru", "--arch", help="mle only: gru or transformer."),
        run_dir: Path = typer.Option(
            ..., "--run-dir", help="Run folder: config, stats.jsonl, samples, checkpoints."
        ),
        out: Path = typer.Option(None, "--out", "-o", help="Model folder (default RUN_DIR/model)."),
        conditional: bool = typer.Option(
            False, "--conditional", help="Condition on the class (named data sets' labels)."
        ),
        text_column: str = typer.Option("text", help="Text column of a user file."),
        label_column: str = typer.Option(
            None, help="Label column of a user file: makes the model conditional."
        ),
        config: Path = typer.Option(None, "--config", "-c", help="YAML with a generator section."),
        set_: list[str] = typer.Option(
            [], "--set", help="Override a generator option, e.g. --set generator.max_epochs=5."
        ),
        cpu_minutes: float = typer.Option(None, help="Stop (and checkpoint) after this CPU time."),
        resume: bool = typer.Option(False, "--resume", help="Continue the run in RUN_DIR."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config."),
    ) -> None:
        """Train a text generator on DATA; save it (config.json, model.safetensors,
        tokenizer.json, README.md) to OUT."""
        cfg = resolve(_default_config(model, arch), config, list(set_))
        if dry_run:
            typer.echo(dump(cfg))
            return
        params = dict(cfg["generator"])
        kind = params.pop("kind")
        texts, labels, name = _texts_and_labels(data, text_column, label_column, conditional)
        typer.echo(f"data: {name}, {len(texts):,} texts", err=True)
        cls = generator_class(kind)
        cpu = None if cpu_minutes is None else cpu_minutes * 60
        try:
            arch_param = {"model": params.pop("model")} if "model" in params else {}
            gen = cls(**arch_param, **params, run_dir=run_dir, cpu_seconds=cpu)
        except TypeError as e:
            raise DataError(f"bad {kind} generator option: {e}") from None
        gen.fit(texts, labels, resume=resume)
        out = out or run_dir / "model"
        gen.save_pretrained(out)
        for key, value in getattr(gen, "metrics", {}).items():
            typer.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
        typer.echo(f"model: {out} (socialgan text generate {out} -n 10)")

    @app.command("generate")
    @user_errors
    def generate(
        model_dir: Path = typer.Argument(..., help="Folder written by generate-train."),
        n: int = typer.Option(10, "-n", help="Number of texts."),
        label: str = typer.Option(None, "--label", help="Class to write (conditional models)."),
        temperature: float = typer.Option(1.0, help="Sampling temperature (> 0)."),
        top_p: float = typer.Option(1.0, help="Nucleus sampling mass in (0, 1]."),
        seed: int = typer.Option(0, help="Same seed, same texts."),
        jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per line."),
    ) -> None:
        """Write N texts with a saved generator, one per line."""
        gen = _load_generator(model_dir)
        texts = gen.sample(n, seed=seed, label=label, temperature=temperature, top_p=top_p)
        for text in texts:
            if jsonl:
                typer.echo(json.dumps({"text": text, "label": label}, ensure_ascii=False))
            else:
                typer.echo(text.replace("\n", " "))

    @app.command("evaluate-generator")
    @user_errors
    def evaluate_generator(
        model_dir: Path = typer.Argument(..., help="Folder written by generate-train."),
        data: str = typer.Option(
            ..., "--data", "-d", help="Held-out real texts, e.g. airline:test."
        ),
        n: int = typer.Option(1000, "-n", help="Samples to draw."),
        temperature: float = typer.Option(1.0, help="Sampling temperature (> 0)."),
        top_p: float = typer.Option(1.0, help="Nucleus sampling mass in (0, 1]."),
        seed: int = typer.Option(0, help="Sampling seed."),
        max_hypotheses: int = typer.Option(500, help="Texts scored by BLEU / self-BLEU."),
        floor_data: str = typer.Option(
            None, help="Other real texts (e.g. airline:validation): the real-vs-real floor."
        ),
        text_column: str = typer.Option("text", help="Text column of a user file."),
        label_column: str = typer.Option(
            None, help="Label column of a user file (a conditional model's NLL needs it)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """BLEU-2..5 against DATA, self-BLEU-2..5, distinct-n, FBD and MAUVE (all-MiniLM-L6-v2
        space), test NLL / perplexity; with --floor-data the same for real texts."""
        from socialgan.text.generate.metrics import generation_report

        gen = _load_generator(model_dir)
        conditional = bool(getattr(gen, "conditional", False))
        refs, ref_labels, name = _texts_and_labels(data, text_column, label_column, conditional)
        samples = gen.sample(n, seed=seed, temperature=temperature, top_p=top_p)
        report: dict[str, Any] = {
            "model": str(model_dir),
            "data": name,
            "temperature": temperature,
            "top_p": top_p,
            "samples": generation_report(samples, refs, max_hypotheses=max_hypotheses, seed=seed),
        }
        if hasattr(gen, "nll"):
            report["test_nll"] = float(gen.nll(refs, ref_labels))
            report["test_perplexity"] = float(gen.perplexity(refs, ref_labels))
        if floor_data:
            real, _, _ = _texts_and_labels(floor_data, text_column, None, False)
            real = real[:n]
            report["floor"] = generation_report(
                real, refs, max_hypotheses=max_hypotheses, seed=seed
            )
        if json_out:
            typer.echo(json.dumps(report, indent=2))
            return
        typer.echo(f"model {model_dir} on {name}: {n} samples, temperature {temperature}")
        keys = [k for k, v in report["samples"].items() if isinstance(v, float)]
        has_floor = "floor" in report
        typer.echo("| metric | samples |" + (" real floor |" if has_floor else ""))
        typer.echo("|---|---|" + ("---|" if has_floor else ""))
        for k in keys:
            floor = f" {report['floor'][k]:.4f} |" if has_floor else ""
            typer.echo(f"| {k} | {report['samples'][k]:.4f} |{floor}")
        if "test_nll" in report:
            nll, ppl = report["test_nll"], report["test_perplexity"]
            typer.echo(f"test NLL {nll:.4f} nats/token, perplexity {ppl:.1f}")


def _load_generator(directory: Path) -> Any:
    """A saved text generator (any ``socialgan.textgen.*`` model type)."""
    from socialgan.loading import load

    return load(directory, expect="socialgan.textgen.")
