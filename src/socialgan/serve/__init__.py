"""Serving socialgan models: batch scoring of files (:mod:`socialgan.serve.batch`)."""
