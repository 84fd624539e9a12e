"""Text generation (issue 11): maximum-likelihood language models and text GANs
(SeqGAN / RelGAN style), with their text metrics.

Empty for now. The one language model so far, the spam LM of the generator attack, stays
in :mod:`socialgan.text.attack.spam_lm`: its vocabulary layout (the ``<link>`` payload
slot), tokenizer and constrained sampling belong to that attack.
"""
