"""Recommenders: the baselines that GAN recommenders must beat, the GANs, and social models."""
