"""Text detectors and what only they use.

* Detectors (one contract, :class:`socialgan.detector.Detector`): :mod:`.classic`
  (``TfidfDetector``, with self-training in :mod:`.self_training`), :mod:`.stacked`
  (``StackedDetector``), :mod:`.neural` (``CharCNNDetector``) and :mod:`.ssgan`
  (``SSGANDetector``, its game in :mod:`.ssgan_game`).
* Their parts: :mod:`.detector_api` (thresholds, moderation hooks), :mod:`.neural_base`
  and :mod:`.nets` (PyTorch detectors and encoders), :mod:`.linear_head`, :mod:`.nbsvm`,
  :mod:`.lsa`; saving and loading in :mod:`.persistence` and :mod:`.model_card`.
* Using them: :mod:`.evaluation` (honest protocols), :mod:`.lowlabel` (low-label curves),
  :mod:`.moderation` (moderation output), :mod:`.presets` (per-data-set defaults).

The public names are importable from :mod:`socialgan.text`.
"""
