"""PureSVD (Cremonesi et al., RecSys 2010): a truncated SVD of the interaction matrix.

``X ≈ U Σ Vᵀ`` with ``factors`` components (scikit-learn's randomized SVD); a user's scores
are ``x V Vᵀ``, the projection of their history on the top item factors, which works for a
new user's history as well.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

from .base import Recommender

__all__ = ["PureSVD"]


class PureSVD(Recommender):
    """Truncated SVD recommender.

    Args:
        factors: number of singular vectors kept.
        seed: the randomized solver's seed.
    """

    model_type = "socialgan.recsys.PureSVD"
    description = "PureSVD (Cremonesi et al. 2010): truncated SVD, scores x V V^T."
    search_space: ClassVar[dict[str, list]] = {
        "factors": [8, 16, 32, 50, 64, 100, 128, 200, 300, 500]
    }

    def __init__(self, factors: int = 64, seed: int = 0) -> None:
        self.factors = factors
        self.seed = seed

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        k = max(1, min(int(self.factors), min(X.shape) - 1))
        _, _, vt = randomized_svd(X, n_components=k, n_iter=7, random_state=self.seed)
        self.V_ = np.ascontiguousarray(vt.T, dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        rows = self.train_[users]
        return np.asarray((rows @ self.V_) @ self.V_.T, dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"V": self.V_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.V_ = state["V"]
