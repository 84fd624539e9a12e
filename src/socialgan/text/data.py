"""Text data sets for moderation: every loader returns a :class:`TextDataset`.

Named sources (see ``shared/data/README.md`` for licences and citations):

* ``youtube-spam``: UCI YouTube Spam Collection, 1,956 comments on 5 videos (group = video);
* ``ott``: Ott et al. deceptive hotel reviews, 1,600 reviews (polarity kept in ``meta``);
* ``liar`` (``liar:train|valid|test``): PolitiFact statements, 6 truthfulness labels;
* ``airline`` (all 14,640 tweets, 3 classes; ``airline:train|validation|test``: a seeded,
  stratified 80/10/10 split for the text generators);
* ``tweepfake`` (``tweepfake:train|validation|test``): TweepFake, tweets by 23 bots and the
  17 human accounts they imitate (label human / bot; the generator family in ``meta``).

A user's own data goes through :func:`load_text_file` (CSV, TSV or JSON lines). Problems with
input raise :class:`~socialgan.errors.DataError` naming the file, row and column.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from socialgan.datapaths import DATA_ENV, find_shared_data
from socialgan.errors import DataError
from socialgan.text.readers import (
    DEFAULT_MAX_CHARS,
    Table,
    check_texts,
    encode_labels,
    read_csv,
    read_table,
)

__all__ = [
    "DATA_ENV",
    "DEFAULT_MAX_CHARS",
    "LIAR_COLUMNS",
    "LIAR_LABELS",
    "NAMED_SOURCES",
    "TextDataset",
    "find_data_dir",
    "load_airline",
    "load_liar",
    "load_named",
    "load_ott",
    "load_source",
    "load_text_file",
    "load_tweepfake",
    "load_youtube_spam",
]

#: LIAR labels from least to most truthful; the label id is the position here.
LIAR_LABELS = ("pants-fire", "false", "barely-true", "half-true", "mostly-true", "true")
#: The 14 LIAR TSV columns (the 5 counts are the speaker's credit history).
LIAR_COLUMNS = (
    "id",
    "label",
    "statement",
    "subject",
    "speaker",
    "job",
    "state",
    "party",
    "barely_true_count",
    "false_count",
    "half_true_count",
    "mostly_true_count",
    "pants_on_fire_count",
    "context",
)
LIAR_COUNT_COLUMNS = LIAR_COLUMNS[8:13]
#: Named data sets: name -> folder under ``shared/data``.
_FOLDERS = {
    "youtube-spam": "youtube_spam",
    "ott": "ott_deceptive",
    "liar": "liar",
    "airline": "tweets_airline",
    "tweepfake": "tweepfake",
}
#: Named data sets with splits: name -> (split names, default split).
_SPLITS = {
    "liar": (("train", "valid", "test"), "train"),
    "tweepfake": (("train", "validation", "test"), "train"),
    "airline": (("train", "validation", "test"), "all"),
}
#: The airline split: shares of validation and test, and the seed (stratified by label).
AIRLINE_SPLIT = {"validation": 0.1, "test": 0.1, "seed": 0}
NAMED_SOURCES: tuple[str, ...] = (
    *_FOLDERS,
    *(f"{name}:{split}" for name, (splits, _) in _SPLITS.items() for split in splits),
)
#: TweepFake generator families (``class_type``), human first.
TWEEPFAKE_FAMILIES = ("human", "gpt2", "rnn", "others")


@dataclass
class TextDataset:
    """Texts with integer labels.

    Attributes:
        texts: the documents.
        labels: ``int64`` array ``(N,)``; ``label_names[labels[i]]`` is the label of text ``i``.
        label_names: class names, in label-id order.
        groups: optional ``(N,)`` group of each text (YouTube: the video), for grouped CV.
        meta: optional extra columns, one row per text (LIAR: speaker, party, counts ...).
        name: a short description for logs and model cards.
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    groups: np.ndarray | None = None
    meta: pd.DataFrame | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.labels) != len(self.texts):
            raise DataError(f"{self.name}: {len(self.labels)} labels for {len(self.texts)} texts")
        if len(self.labels) and (
            self.labels.min() < 0 or self.labels.max() >= len(self.label_names)
        ):
            raise DataError(f"{self.name}: label ids must be in 0..{len(self.label_names) - 1}")
        if self.groups is not None and len(self.groups) != len(self.texts):
            raise DataError(f"{self.name}: {len(self.groups)} groups for {len(self.texts)} texts")
        if self.meta is not None and len(self.meta) != len(self.texts):
            raise DataError(f"{self.name}: {len(self.meta)} meta rows for {len(self.texts)} texts")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def class_counts(self) -> dict[str, int]:
        """``{label name: number of texts}``."""
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return {name: int(c) for name, c in zip(self.label_names, counts, strict=True)}

    def subset(self, index: Sequence[int] | np.ndarray) -> TextDataset:
        """The texts at ``index`` (an integer array), with their labels, groups and meta."""
        idx = np.asarray(index, dtype=np.int64)
        return TextDataset(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            label_names=list(self.label_names),
            groups=None if self.groups is None else self.groups[idx],
            meta=None if self.meta is None else self.meta.iloc[idx].reset_index(drop=True),
            name=self.name,
        )

    def to_frame(self, text_column: str = "text") -> pd.DataFrame:
        """A frame with the texts and the meta columns: the ``X`` a meta-aware detector takes."""
        frame = pd.DataFrame({text_column: self.texts})
        if self.meta is not None:
            extra = self.meta.drop(columns=[text_column], errors="ignore").reset_index(drop=True)
            frame = pd.concat([frame, extra], axis=1)
        return frame


def find_data_dir(folder: str, root: str | Path | None = None) -> Path:
    """Locate ``<shared data>/<folder>``.

    Looks at ``root`` when given (either the folder itself or its parent); otherwise where
    :func:`socialgan.datapaths.find_shared_data` looks (``$SOCIALGAN_DATA``, then
    ``shared/data`` above the working directory or the source tree). The error lists every
    place tried.
    """
    if root is not None:
        root = Path(root)
        if (root / folder).is_dir():
            return root / folder
        if root.exists():
            return root
        raise DataError(f"{root}: data folder not found (nor {root / folder})")
    return find_shared_data(folder)


def _meta_frame(table: Table, columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: table.column(c) for c in columns})


def load_youtube_spam(
    root: str | Path | None = None, *, max_chars: int = DEFAULT_MAX_CHARS
) -> TextDataset:
    """UCI YouTube Spam Collection: 1,956 comments (1,005 spam) on 5 music videos.

    Label 1 = spam. ``groups`` holds the video (``Psy``, ``KatyPerry`` ...) for
    leave-one-video-out evaluation; ``meta`` has comment_id, author, date and video.
    The U+FEFF characters that the crawl appended to many comments are removed: they mark
    when a comment was collected, not what it says.
    """
    folder = find_data_dir("youtube_spam", root)
    files = sorted(folder.glob("Youtube*.csv"))
    if not files:
        raise DataError(f"{folder}: no Youtube*.csv files found")
    texts: list[str] = []
    raw_labels: list[str] = []
    groups: list[str] = []
    metas: list[pd.DataFrame] = []
    for path in files:
        table = read_csv(path)
        table.require("COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS")
        content = [c.replace("\ufeff", "") for c in table.column("CONTENT")]
        texts += check_texts(content, partial(table.where, column="CONTENT"), max_chars)
        labels = table.column("CLASS")
        encode_labels(labels, partial(table.where, column="CLASS"), order=("0", "1"))
        raw_labels += labels
        video = path.stem.split("-", 1)[-1]
        groups += [video] * len(table)
        meta = _meta_frame(table, ("COMMENT_ID", "AUTHOR", "DATE"))
        meta.columns = ["comment_id", "author", "date"]
        metas.append(meta.assign(video=video))
    labels_arr = np.array([int(v) for v in raw_labels], dtype=np.int64)
    return TextDataset(
        texts,
        labels_arr,
        ["ham", "spam"],
        groups=np.array(groups),
        meta=pd.concat(metas, ignore_index=True),
        name="youtube-spam",
    )


def load_ott(root: str | Path | None = None, *, max_chars: int = DEFAULT_MAX_CHARS) -> TextDataset:
    """Ott et al. deceptive opinion spam: 1,600 hotel reviews; label 1 = deceptive.

    ``meta`` keeps hotel, polarity (positive/negative) and source.
    """
    folder = find_data_dir("ott_deceptive", root)
    path = folder / "deceptive-opinion.csv" if folder.is_dir() else folder
    table = read_csv(path)
    table.require("deceptive", "hotel", "polarity", "source", "text")
    texts = check_texts(table.column("text"), lambda i: table.where(i, "text"), max_chars)
    labels, names = encode_labels(
        table.column("deceptive"),
        lambda i: table.where(i, "deceptive"),
        order=("truthful", "deceptive"),
    )
    meta = _meta_frame(table, ("hotel", "polarity", "source"))
    return TextDataset(texts, labels, names, meta=meta, name="ott")


def load_liar(
    root: str | Path | None = None,
    split: str = "train",
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> TextDataset:
    """LIAR (Wang 2017): PolitiFact statements with 6 labels ordered as :data:`LIAR_LABELS`.

    ``split`` is ``train`` (10,269), ``valid`` (1,284) or ``test`` (1,283). ``meta`` holds the
    other 12 columns; the 5 credit-history counts are floats. Note that the counts include
    the statement itself (as distributed), so they leak a little of its label.
    """
    if split not in ("train", "valid", "test"):
        raise DataError(f"LIAR split must be train, valid or test, not {split!r}")
    folder = find_data_dir("liar", root)
    path = folder / f"{split}.tsv"
    table = read_csv(path, delimiter="\t", names=LIAR_COLUMNS, quoting=csv.QUOTE_NONE)
    texts = check_texts(table.column("statement"), lambda i: table.where(i, "statement"), max_chars)
    labels, names = encode_labels(
        table.column("label"), lambda i: table.where(i, "label"), order=LIAR_LABELS
    )
    meta = _meta_frame(table, [c for c in LIAR_COLUMNS if c not in ("label", "statement")])
    for col in LIAR_COUNT_COLUMNS:
        values = pd.to_numeric(meta[col].replace("", np.nan), errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & (meta[col] != "").to_numpy())
        if len(bad):
            raise DataError(f"{table.where(int(bad[0]), col)}: expected a number")
        meta[col] = values.astype(np.float64)
    return TextDataset(texts, labels, names, meta=meta, name=f"liar:{split}")


def load_airline(
    root: str | Path | None = None, split: str = "all", *, max_chars: int = DEFAULT_MAX_CHARS
) -> TextDataset:
    """Twitter US airline sentiment: 14,640 tweets labelled negative / neutral / positive.

    ``split``: ``all``, or ``train`` / ``validation`` / ``test`` of a stratified 80/10/10
    split with seed 0 (:data:`AIRLINE_SPLIT`; the same on every machine)."""
    splits = _SPLITS["airline"][0]
    if split != "all" and split not in splits:
        raise DataError(f"unknown airline split {split!r}; expected all, {', '.join(splits)}")
    folder = find_data_dir("tweets_airline", root)
    path = folder / "Tweets.csv" if folder.is_dir() else folder
    table = read_csv(path)
    table.require("text", "airline_sentiment")
    texts = check_texts(table.column("text"), lambda i: table.where(i, "text"), max_chars)
    labels, names = encode_labels(
        table.column("airline_sentiment"),
        lambda i: table.where(i, "airline_sentiment"),
        order=("negative", "neutral", "positive"),
    )
    meta_cols = [c for c in ("airline", "negativereason") if c in table.columns]
    data = TextDataset(texts, labels, names, meta=_meta_frame(table, meta_cols), name="airline")
    if split == "all":
        return data
    part = data.subset(_airline_split(data.labels)[split])
    part.name = f"airline:{split}"
    return part


def _airline_split(labels: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    seed, n_val, n_test = AIRLINE_SPLIT["seed"], AIRLINE_SPLIT["validation"], AIRLINE_SPLIT["test"]
    rest, test = train_test_split(rows, test_size=n_test, stratify=labels, random_state=seed)
    train, val = train_test_split(
        rest, test_size=n_val / (1 - n_test), stratify=labels[rest], random_state=seed
    )
    return {"train": np.sort(train), "validation": np.sort(val), "test": np.sort(test)}


def load_tweepfake(
    root: str | Path | None = None, split: str = "train", *, max_chars: int = DEFAULT_MAX_CHARS
) -> TextDataset:
    """TweepFake (Fagni et al. 2021), one official split: label ``human`` / ``bot``.

    ``meta`` holds ``family`` (``human``, ``gpt2``, ``rnn`` or ``others``: the generator
    behind a bot tweet) and ``screen_name``; ``groups`` is the account.
    """
    splits = _SPLITS["tweepfake"][0]
    if split not in splits:
        raise DataError(f"unknown TweepFake split {split!r}; expected one of {', '.join(splits)}")
    path = find_data_dir("tweepfake", root) / f"{split}.csv"
    table = read_csv(path, delimiter=";")
    table.require("screen_name", "text", "account.type", "class_type")
    texts = check_texts(table.column("text"), lambda i: table.where(i, "text"), max_chars)
    labels, names = encode_labels(
        table.column("account.type"),
        lambda i: table.where(i, "account.type"),
        order=("human", "bot"),
    )
    families = [str(f).strip() for f in table.column("class_type")]
    for i, fam in enumerate(families):
        if fam not in TWEEPFAKE_FAMILIES:
            raise DataError(
                f"{table.where(i, 'class_type')}: unknown family {fam!r}; "
                f"expected one of {', '.join(TWEEPFAKE_FAMILIES)}"
            )
        if (fam == "human") != (labels[i] == 0):
            raise DataError(
                f"{table.where(i)}: account.type {names[labels[i]]!r} disagrees with "
                f"class_type {fam!r}"
            )
    accounts = [str(a) for a in table.column("screen_name")]
    meta = pd.DataFrame({"family": families, "screen_name": accounts})
    return TextDataset(
        texts, labels, names, groups=np.array(accounts), meta=meta, name=f"tweepfake:{split}"
    )


def load_text_file(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    *,
    label_names: Sequence[str] | None = None,
    group_column: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> TextDataset:
    """A user's labelled texts from CSV, TSV or JSON lines (one object per line).

    Labels may be strings or numbers; without ``label_names`` the distinct values are
    sorted (so ``0/1`` or ``ham/spam`` make the last one the positive class). The remaining
    columns go to ``meta``. UTF-8 only; every problem names the file, row and column.
    """
    path = Path(path)
    table = read_table(path)
    needed = [text_column, label_column] + ([group_column] if group_column else [])
    table.require(*needed)
    texts = check_texts(table.column(text_column), lambda i: table.where(i, text_column), max_chars)
    labels, names = encode_labels(
        table.column(label_column), lambda i: table.where(i, label_column), order=label_names
    )
    if len(set(names)) < 2:
        raise DataError(f"{path}: column {label_column!r} needs at least 2 classes, found {names}")
    groups = None
    if group_column:
        groups = np.array([str(g) for g in table.column(group_column)])
    rest = [c for c in table.columns if c not in needed]
    meta = _meta_frame(table, rest) if rest else None
    return TextDataset(texts, labels, names, groups=groups, meta=meta, name=path.name)


def load_named(
    name: str, root: str | Path | None = None, *, max_chars: int = DEFAULT_MAX_CHARS
) -> TextDataset:
    """One of :data:`NAMED_SOURCES`; ``liar`` means ``liar:train``, ``tweepfake``
    ``tweepfake:train``."""
    base, _, split = name.partition(":")
    if base not in _FOLDERS or (split and base not in _SPLITS):
        raise DataError(f"unknown data set {name!r}; known: {', '.join(NAMED_SOURCES)}")
    if base == "tweepfake":
        return load_tweepfake(root, split or "train", max_chars=max_chars)
    if base == "youtube-spam":
        return load_youtube_spam(root, max_chars=max_chars)
    if base == "ott":
        return load_ott(root, max_chars=max_chars)
    if base == "liar":
        return load_liar(root, split or "train", max_chars=max_chars)
    return load_airline(root, split or "all", max_chars=max_chars)


def load_source(
    spec: str,
    text_column: str = "text",
    label_column: str = "label",
    *,
    group_column: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> TextDataset:
    """A named data set (:data:`NAMED_SOURCES`) or a path to a CSV/TSV/JSONL file."""
    if spec.partition(":")[0] in _FOLDERS:
        return load_named(spec, max_chars=max_chars)
    path = Path(spec)
    if not path.exists():
        raise DataError(
            f"{spec}: no such file, and not a named data set ({', '.join(NAMED_SOURCES)})"
        )
    return load_text_file(
        path, text_column, label_column, group_column=group_column, max_chars=max_chars
    )
