"""Adaptive bots: a bot-profile generator fine-tuned to evade a frozen detector.

The threat is a bot operator who already has a synthesizer of account profiles (a fitted
:class:`~socialgan.tabular.gan.TabularGAN`, asked for ``bot = 1``) and can submit accounts
to the platform and see whether they are caught, but cannot see the detector's weights: a
black box. The detector's features (log counts, ratios, account age, name patterns) and
its trees are not differentiable, so the attacker distils them into a **surrogate**, a
small MLP on the synthesizer's own data space that predicts the detector's p(bot) from its
answers (the substitute-model attack of Papernot et al. 2017). Each round of
:meth:`AdaptiveBots.fit`:

1. sample ``queries`` bot profiles from the current generator, complete their text and id
   columns from the nearest real bot (:func:`~socialgan.tabular.oversample.complete_rows`),
   and ask the detector for their scores (the detection rate of the round is logged);
2. refit the surrogate on every answer so far (warm start);
3. train the generator ``steps_per_round`` steps of the synthesizer's own game, on the
   engine's :class:`~socialgan.engine.Trainer`, with the evasion term
   ``evasion_weight * softplus(surrogate(G(z)))`` (``-log(1 - p)``: it stops pushing once
   a profile passes) added to the generator's loss.

**Realism** is kept by the game itself: the synthesizer's critic keeps training on real
bots against the generator's bots (WGAN-GP, conditioned on the class), so the generator
pays for every step away from the real bots' distribution, and the transformer keeps
every value inside the ranges seen in training. It is measured by :func:`realism_auc`, a
classifier two-sample test (Lopez-Paz & Oquab 2017): the cross-validated ROC AUC of a
gradient-boosting classifier telling real bots from generated ones, on the modeled
columns only (0.5: indistinguishable). Compare it before and after the attack.

:func:`harden` retrains a copy of the detector with the attack's profiles added as bots.

Example:
    >>> from socialgan.tabular import AccountDetector, load_twitter_bots
    >>> from socialgan.tabular.adaptive import AdaptiveBots, harden
    >>> from socialgan.tabular.oversample import fit_synthesizer
    >>> train = load_twitter_bots()  # doctest: +SKIP
    >>> detector = AccountDetector().fit(train)  # doctest: +SKIP
    >>> gan = fit_synthesizer(train, "bot")  # doctest: +SKIP
    >>> attack = AdaptiveBots(gan, detector, train).fit()  # doctest: +SKIP
    >>> attack.history_[-1]["detection_rate"]  # doctest: +SKIP
    >>> hardened = harden(detector, train, attack.sample(1000, seed=1))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.base import clone
from torch import Tensor, nn

from socialgan.checks import check_int, check_number
from socialgan.detector import DEFAULT_THRESHOLD
from socialgan.engine import TrainConfig, Trainer
from socialgan.engine.config import TRAIN_OPTIONS
from socialgan.engine.data import TensorBatches
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.tabular.gan import TabularGAN
from socialgan.tabular.nets import condition_loss
from socialgan.tabular.oversample import complete_rows

__all__ = ["AdaptiveBots", "Surrogate", "harden", "realism_auc"]


class ScoresAccounts(Protocol):
    """What the attack may use of a detector: its p(bot) of account rows."""

    def category_score(self, X: pd.DataFrame) -> np.ndarray: ...


class Surrogate(nn.Module):
    """The attacker's differentiable copy of the detector: transformed rows -> logit."""

    def __init__(self, data_dim: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = data_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


class _ClassBatches(TensorBatches):
    """Real rows of one class, every one with that class's flat condition; the generator's
    conditions are that class too."""

    def __init__(self, x: Tensor, flat: int, *, batch_size: int, seed: int) -> None:
        y = torch.full((x.shape[0],), flat, dtype=torch.long)
        super().__init__(x, y, batch_size=batch_size, seed=seed)
        self.flat = flat

    def sample_labels(self, n: int, generator: torch.Generator) -> Tensor:
        return torch.full((n,), self.flat, dtype=torch.long)


class AdaptiveBots:
    """Fine-tune a copy of ``synthesizer`` so that its ``label_column = value`` rows evade
    ``detector`` (black box: only its scores are used).

    Args:
        synthesizer: a fitted :class:`TabularGAN` that models ``label_column`` as discrete
            (:func:`~socialgan.tabular.oversample.fit_synthesizer`); it is not changed.
        detector: anything with ``category_score(frame) -> p(bot)`` (an
            :class:`~socialgan.tabular.AccountDetector`); its ``threshold`` (0.5 if it
            has none) decides what counts as detected.
        reference: the attacker's real rows (with the text and id columns and the label):
            the critic's real bots, the donors of the text columns, and the first answers
            the surrogate learns from.
        label_column, value: the class to disguise (``"bot"``, 1).
        rounds: query / refit / train rounds (10).
        steps_per_round: generator steps per round (100).
        queries: profiles submitted to the detector per round (1,000); the total is
            ``len(reference) + (rounds + 1) * queries``.
        evasion_weight: weight of the evasion term against the game's loss (3.0).
        surrogate_hidden: the surrogate's hidden widths ((256, 256)).
        surrogate_epochs: passes over the answers at each refit (30).
        seed: seeds the surrogate, the game and the query samples (0).
        progress: None = the engine's bar on a terminal; False = quiet; True = also a
            line per round on stderr.
        **train: :class:`~socialgan.engine.TrainConfig` fields of the fine-tuning game
            (``lr_g``, ``n_critic``, ``gp_lambda``...); default: the synthesizer's own.

    The game does not settle: the critic wins back ground the evasion term took, and the
    detection rate of later rounds can climb again. The attacker sees every round's rate
    in the detector's answers, so ``synthesizer_`` keeps the generator (its EMA copy) of the
    round with the lowest one, ``best_round_`` (round 0, the synthesizer as given, if no
    round did better).

    After :meth:`fit`: ``synthesizer_`` (the adapted :class:`TabularGAN`; it saves and
    samples like any other), ``best_round_``, ``surrogate_``, ``trainer_`` and
    ``history_``: one dict per round (``round``, ``step``, ``queries`` so far,
    ``detection_rate`` and ``mean_score`` of that round's profiles,
    ``surrogate_agreement``: share of them where the surrogate, before seeing them, agreed
    with the detector's decision).
    """

    def __init__(
        self,
        synthesizer: TabularGAN,
        detector: ScoresAccounts,
        reference: pd.DataFrame,
        *,
        label_column: str = "bot",
        value: Any = 1,
        rounds: int = 10,
        steps_per_round: int = 100,
        queries: int = 1000,
        evasion_weight: float = 3.0,
        surrogate_hidden: Sequence[int] = (256, 256),
        surrogate_epochs: int = 30,
        seed: int = 0,
        progress: bool | None = False,
        **train: Any,
    ) -> None:
        if not isinstance(synthesizer, TabularGAN):
            raise DataError(f"synthesizer: expected a TabularGAN, got {type(synthesizer).__name__}")
        if not callable(getattr(detector, "category_score", None)):
            raise DataError("detector: expected an object with category_score(frame)")
        if not isinstance(reference, pd.DataFrame) or label_column not in reference.columns:
            raise DataError(
                f"reference: expected a DataFrame with the label column {label_column!r}"
            )
        self.synthesizer, self.detector, self.reference = synthesizer, detector, reference
        self.label_column, self.value = label_column, value
        self.rounds = check_int("rounds", rounds, minimum=1)
        self.steps_per_round = check_int("steps_per_round", steps_per_round, minimum=1)
        self.queries = check_int("queries", queries, minimum=1)
        self.evasion_weight = check_number("evasion_weight", evasion_weight, minimum=0)
        self.surrogate_hidden = [
            check_int("surrogate_hidden", h, minimum=1) for h in surrogate_hidden
        ]
        self.surrogate_epochs = check_int("surrogate_epochs", surrogate_epochs, minimum=1)
        self.seed = check_int("seed", seed)
        self.progress = progress
        unknown = sorted(set(train) - TRAIN_OPTIONS)
        if unknown:
            raise DataError(f"unknown training option(s) {', '.join(unknown)}")
        self.train = train
        self.threshold = float(getattr(detector, "threshold", DEFAULT_THRESHOLD))
        self.history_: list[dict[str, float]] = []

    # ---------------------------------------------------------------- attack
    def fit(self) -> AdaptiveBots:
        """Run the attack; returns ``self``."""
        gan = self.synthesizer
        tr, _ = gan._fitted()
        condition = {self.label_column: self.value}
        found = gan._condition(condition)
        assert found is not None
        flat = found[0]
        ref = self.reference.reset_index(drop=True)
        real = ref[ref[self.label_column] == self.value]
        pac = gan.params["pac"]
        batch = min(gan.params["batch_size"], len(real) // pac * pac)
        if batch < pac:
            raise DataError(
                f"reference: {len(real)} rows with {self.label_column} = {self.value!r}; the "
                f"critic needs at least pac = {pac}"
            )
        assert gan.generator is not None and gan.discriminator is not None
        # the generator that samples (the EMA copy, frozen) and the critic, trainable copies
        g = copy.deepcopy(gan.ema_generator or gan.generator).requires_grad_(True)
        d = copy.deepcopy(gan.discriminator).requires_grad_(True)
        steps = self.rounds * self.steps_per_round
        config = TrainConfig.from_dict(
            {
                **gan.train_config.to_dict(),
                "steps": steps,
                "batch_size": batch,
                "seed": self.seed,
                "log_every": self.steps_per_round,
                "tensorboard": False,
                **self.train,
            }
        )
        x_real = torch.as_tensor(tr.transform(real))
        data = _ClassBatches(x_real, flat, batch_size=batch, seed=self.seed)
        device = select_device(config.device)
        surrogate = Surrogate(tr.output_dim, self.surrogate_hidden).to(device)
        surrogate.requires_grad_(False)
        tables = gan._condition_tables(tr, device)
        weight = self.evasion_weight

        def evade(fake: Tensor, y: Tensor | None) -> Tensor:
            reg = F.softplus(surrogate(fake)).mean() * weight
            if g.last_logits is not None and y is not None:
                reg = reg + condition_loss(g.last_logits, y, *tables)
            return reg

        trainer = Trainer(g, d, data, config, None, progress=self.progress, g_regularizer=evade)
        adapted = copy.copy(gan)
        adapted.params = dict(gan.params)
        adapted.generator, adapted.discriminator, adapted.trainer = g, d, None
        shadow = trainer.ema.shadow
        assert isinstance(shadow, type(g))
        adapted.ema_generator = shadow
        self.synthesizer_, self.surrogate_, self.trainer_ = adapted, surrogate, trainer

        xs = [tr.transform(ref)]
        ps = [self._score(ref)]
        opt = torch.optim.Adam(surrogate.parameters(), lr=1e-3, weight_decay=1e-5)
        rng = torch.Generator().manual_seed(self.seed)
        asked = len(ref)
        self.history_ = []
        best_rate, best_state, self.best_round_ = math.inf, None, 0
        for r in range(self.rounds + 1):
            rows = adapted.sample(
                self.queries, seed=self.seed * 1_000_003 + 7919 * r + 1, conditions=condition
            )
            full = complete_rows(rows, ref, self.label_column, self.value)
            p = self._score(full)
            x = tr.transform(rows)
            asked += len(full)
            with torch.no_grad():
                guess = surrogate(torch.as_tensor(x, device=device)).cpu().numpy() > 0
            row = {
                "round": float(r),
                "step": float(trainer.step),
                "queries": float(asked),
                "detection_rate": float(np.mean(p >= self.threshold)),
                "mean_score": float(np.mean(p)),
                "surrogate_agreement": float(np.mean(guess == (p >= 0.5))) if r else float("nan"),
            }
            self.history_.append(row)
            if row["detection_rate"] < best_rate:
                best_rate, self.best_round_ = row["detection_rate"], r
                best_state = copy.deepcopy(shadow.state_dict())
            if self.progress:
                print(
                    f"round {r}: step {trainer.step}, detected {row['detection_rate']:.3f}, "
                    f"mean p(bot) {row['mean_score']:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
            if r == self.rounds:
                break
            xs.append(x)
            ps.append(p)
            self._fit_surrogate(surrogate, opt, np.concatenate(xs), np.concatenate(ps), rng)
            trainer.fit(steps=(r + 1) * self.steps_per_round)
        assert best_state is not None
        shadow.load_state_dict(best_state)
        adapted.history = trainer.history
        return self

    def _score(self, frame: pd.DataFrame) -> np.ndarray:
        p = np.asarray(self.detector.category_score(frame), dtype=np.float64)
        if p.shape != (len(frame),) or not np.isfinite(p).all():
            raise DataError("detector: category_score must give one finite score per row")
        return p

    def _fit_surrogate(
        self,
        net: Surrogate,
        opt: torch.optim.Optimizer,
        x: np.ndarray,
        p: np.ndarray,
        rng: torch.Generator,
    ) -> None:
        device = next(net.parameters()).device
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        pt = torch.as_tensor(np.clip(p, 1e-4, 1 - 1e-4), dtype=torch.float32, device=device)
        net.requires_grad_(True).train()
        for _ in range(self.surrogate_epochs):
            order = torch.randperm(len(xt), generator=rng).to(device)
            for i in range(0, len(xt), 256):
                idx = order[i : i + 256]
                loss = F.binary_cross_entropy_with_logits(net(xt[idx]), pt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval().requires_grad_(False)

    def sample(self, n: int, seed: int | None = 0) -> pd.DataFrame:
        """``n`` adapted profiles, whole (text and ids from their nearest real bot), in
        ``reference``'s columns and dtypes."""
        if not hasattr(self, "synthesizer_"):
            raise RuntimeError("this AdaptiveBots has not run: call fit() first")
        rows = self.synthesizer_.sample(n, seed=seed, conditions={self.label_column: self.value})
        return complete_rows(rows, self.reference, self.label_column, self.value)


def harden(detector: Any, train: pd.DataFrame, adversarial: pd.DataFrame) -> Any:
    """A fresh copy of ``detector`` (same settings) fitted on ``train`` plus the
    ``adversarial`` rows (labelled as the class they disguise)."""
    missing = [c for c in train.columns if c not in adversarial.columns]
    if missing:
        raise DataError(f"adversarial rows lack the column(s) {missing} of the training table")
    rows = pd.concat([train, adversarial[train.columns]], ignore_index=True)
    return clone(detector).fit(rows)


def realism_auc(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
) -> float:
    """Classifier two-sample test: the ``folds``-fold ROC AUC of a gradient-boosting
    classifier (the account detector's own, on its features of ``columns``) telling
    ``real`` from ``synthetic`` rows. 0.5: it cannot tell them apart; 1.0: it always can."""
    from socialgan.tabular.detect import AccountDetector, cross_validate

    cols = [str(c) for c in columns]
    both = pd.concat(
        [real[cols].assign(_synthetic=0), synthetic[cols].assign(_synthetic=1)],
        ignore_index=True,
    )
    det = AccountDetector(label_column="_synthetic", seed=seed)
    return float(cross_validate(det, both, folds=folds, seed=seed)["cv_roc_auc"])
