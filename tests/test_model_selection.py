"""The one C search: lowest pooled out-of-fold log-loss, ties to the earliest candidate."""

import numpy as np
import pytest

from socialgan.model_selection import lowest_log_loss, out_of_fold_proba


def test_lowest_log_loss_picks_the_sharpest_right_candidate():
    y = np.array([0, 1, 1, 0])
    right = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.7, 0.3]])
    table = {"uniform": np.full((4, 2), 0.5), "right": right, "wrong": right[:, ::-1]}
    best, proba, losses = lowest_log_loss(list(table), table.__getitem__, y, 2)
    assert best == "right" and proba is right
    assert losses["right"] < losses["uniform"] < losses["wrong"]
    assert losses["uniform"] == pytest.approx(np.log(2))


def test_ties_go_to_the_first_candidate():
    same = np.full((2, 2), 0.5)
    assert lowest_log_loss([0.1, 1.0, 10.0], lambda c: same, np.array([0, 1]), 2)[0] == 0.1
    with pytest.raises(ValueError, match="no candidates"):
        lowest_log_loss([], lambda c: same, np.array([0, 1]), 2)


def test_out_of_fold_rows_come_from_their_own_fold():
    folds = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    seen = []

    def fit_predict(train, test):
        seen.append(set(train) & set(test))
        return np.column_stack([test / 10, 1 - test / 10])

    proba = out_of_fold_proba(fit_predict, 4, 2, folds)
    np.testing.assert_allclose(proba[:, 0], [0.0, 0.1, 0.2, 0.3])
    assert seen == [set(), set()]
