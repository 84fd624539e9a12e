"""Text generation (issue 11): maximum-likelihood language models and text GANs
(SeqGAN / RelGAN style), with their text metrics.

* :mod:`.tokenizer`: :class:`TextTokenizer`, a BPE or word vocabulary trained offline on the
  corpus (Hugging Face ``tokenizers``), with ``<label:NAME>`` class tokens.
* :mod:`.lm`: the nets, :class:`GRULanguageModel` and :class:`TransformerLanguageModel`
  (causal, tied embeddings); :mod:`.sampling`: :func:`sample`, seeded autoregressive
  sampling with temperature and nucleus (top-p), shared with the GANs' rollouts.
* :mod:`.mle`: :class:`MLETextGenerator`, ``fit(texts, labels=None) -> self``,
  ``sample(n, seed=..., label=...)``, ``nll``/``perplexity``, ``save_pretrained`` /
  ``from_pretrained`` (``socialgan.load`` opens it); its data preparation in
  :mod:`.corpus`, its training loop with exact resume in :mod:`.mle_train`, its folder in
  :mod:`.mle_io` and :mod:`.card`, its settings and net builder in :mod:`.settings`.
* :mod:`.seqgan`: :class:`SeqGANTextGenerator`, the same API, MLE-pretrained then trained
  adversarially (SeqGAN: Monte-Carlo rollout rewards, REINFORCE, interleaved teacher
  forcing); its CNN discriminator in :mod:`.seqgan_nets`, its adversarial loop with exact
  resume in :mod:`.seqgan_train`. :mod:`.policy_gradient` holds :func:`reinforce_loss`, the
  one REINFORCE loss of the package (the generator attack uses it too).
* :mod:`.relgan`: :class:`RelGANTextGenerator`, the same API; an MLE-pretrained GRU, then a
  Gumbel-softmax GAN through the engine's Trainer (multi-representation CNN discriminator,
  inverse temperature annealed 1 -> ``beta_max``); nets in :mod:`.relgan_nets`, settings in
  :mod:`.relgan_settings`, folder in :mod:`.relgan_io`.
* :mod:`.evaluation`: temperature sweeps, curves compared at matched diversity,
  conditional accuracy, detectability; :mod:`.cli`: ``socialgan text generate-train |
  generate | evaluate-generator``.
* :mod:`.metrics`: BLEU / self-BLEU, distinct-n, FBD and MAUVE of generated texts; not
  re-exported here, since it imports ``nltk`` (the ``text`` extra) on import.

The spam LM of the generator attack stays in :mod:`socialgan.text.attack.spam_lm`: its
vocabulary layout (the ``<link>`` payload slot), tokenizer and constrained sampling belong
to that attack.

Example:
    >>> from socialgan.text.generate import MLETextGenerator
    >>> gen = MLETextGenerator("gru", max_epochs=5).fit(texts)  # doctest: +SKIP
    >>> gen.sample(3, seed=0)  # doctest: +SKIP
"""

from socialgan.text.generate.lm import GRULanguageModel, LanguageModel, TransformerLanguageModel
from socialgan.text.generate.mle import MLETextGenerator
from socialgan.text.generate.policy_gradient import reinforce_loss
from socialgan.text.generate.relgan import RelGANTextGenerator
from socialgan.text.generate.sampling import nucleus_probs, sample
from socialgan.text.generate.seqgan import SeqGANTextGenerator
from socialgan.text.generate.tokenizer import TextTokenizer

__all__ = [
    "GRULanguageModel",
    "LanguageModel",
    "MLETextGenerator",
    "RelGANTextGenerator",
    "SeqGANTextGenerator",
    "TextTokenizer",
    "TransformerLanguageModel",
    "nucleus_probs",
    "reinforce_loss",
    "sample",
]
