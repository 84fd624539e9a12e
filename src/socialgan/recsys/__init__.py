"""Personalized recommendation: GAN recommenders measured against the baselines that beat
them, with the social graph (see :mod:`socialgan.recsys.data`, :mod:`.split`, :mod:`.metrics`,
:mod:`.models`)."""
