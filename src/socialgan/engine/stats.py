"""Where training numbers go: ``stats.jsonl``, TensorBoard and the progress display.

Kept away from the loop (as in StyleGAN2-ADA's ``training_stats``): the loop hands over
a dict of scalars; this module decides where they are written. On a terminal a tqdm bar
shows progress; elsewhere (CI, ``nohup``) plain lines are printed every ``log_every``
steps instead.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .utils import is_tty


def truncate_stats(path: Path, last_step: int) -> None:
    """Drop lines logged after ``last_step`` (a resumed run re-logs them)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= last_step:
                kept.append(line)
        except json.JSONDecodeError:  # a line cut short by a crash
            continue
    path.write_text("".join(k + "\n" for k in kept))


class StatsLogger:
    """Writes scalars to ``run_dir/stats.jsonl`` and TensorBoard, and shows progress.

    Args:
        run_dir: run folder, or None to log nowhere but the console.
        total_steps: for the progress bar.
        start_step: where a resumed run starts.
        tensorboard: also write TensorBoard event files under ``run_dir``.
        progress: ``None`` = a bar on a terminal, plain lines otherwise; ``False`` = quiet.
        log_every: period of plain progress lines when not on a terminal.
    """

    def __init__(
        self,
        run_dir: str | Path | None,
        *,
        total_steps: int,
        start_step: int = 0,
        tensorboard: bool = True,
        progress: bool | None = None,
        log_every: int = 100,
    ) -> None:
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.total_steps = total_steps
        self.log_every = max(1, log_every)
        self._jsonl = None
        self._tb: Any = None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            path = self.run_dir / "stats.jsonl"
            truncate_stats(path, start_step)
            self._jsonl = open(path, "a", buffering=1)
            if tensorboard:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(self.run_dir), purge_step=start_step + 1)
        show_bar = is_tty() if progress is None else progress
        self._plain = progress is None and not show_bar
        self._bar = (
            tqdm(
                total=total_steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True
            )
            if show_bar
            else None
        )
        self._t0 = time.perf_counter()
        self._start_step = start_step

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Record ``scalars`` at ``step`` everywhere."""
        record = {"step": step, "time": round(time.time(), 3), **scalars}
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for k, v in scalars.items():
                self._tb.add_scalar(k, v, step)
        if self._bar is not None:
            shown = {k: f"{v:.3g}" for k, v in scalars.items() if k.startswith("loss")}
            self._bar.set_postfix(shown, refresh=False)
        elif self._plain and (step % self.log_every == 0 or step == self.total_steps):
            rate = (step - self._start_step) / max(time.perf_counter() - self._t0, 1e-9)
            parts = " ".join(f"{k}={v:.4g}" for k, v in scalars.items())
            print(f"step {step}/{self.total_steps} ({rate:.1f} step/s) {parts}", file=sys.stderr)

    def advance(self, n: int = 1) -> None:
        """Move the progress bar by ``n`` steps."""
        if self._bar is not None:
            self._bar.update(n)

    def image(self, tag: str, image_chw: Any, step: int) -> None:
        """Send an image (C,H,W in [0,1]) to TensorBoard, if enabled."""
        if self._tb is not None:
            self._tb.add_image(tag, image_chw, step)

    def message(self, text: str) -> None:
        """Print a line without breaking the progress bar."""
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        elif self._plain or self._bar is None:
            print(text, file=sys.stderr)

    def close(self) -> None:
        """Flush and close every sink."""
        if self._bar is not None:
            self._bar.close()
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
