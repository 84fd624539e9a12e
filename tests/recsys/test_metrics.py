import numpy as np
import pytest
import scipy.sparse as sp

from socialgan.recsys.metrics import beyond_accuracy, hit_matrix, ranking_metrics, top_k


def test_metrics_on_a_hand_made_ranking():
    # user 0: truth {1, 3}; ranked [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: truth {5}; ranked [4, 5, 6] -> hit at rank 2
    ranked = np.array([[1, 2, 3], [4, 5, 6]])
    truth = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 3, 5])), shape=(2, 7))
    hits = hit_matrix(ranked, truth, np.array([0, 1]))
    assert hits.tolist() == [[True, False, True], [False, True, False]]
    m = ranking_metrics(hits, np.array([2, 1]), ks=(1, 3))
    assert m["precision@1"] == pytest.approx(0.5)
    assert m["precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert m["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["recall@3"] == pytest.approx(1.0)
    ndcg0 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    ndcg1 = (1 / np.log2(3)) / 1
    assert m["ndcg@3"] == pytest.approx((ndcg0 + ndcg1) / 2)
    assert m["ndcg@1"] == pytest.approx(0.5)
    assert m["mrr@3"] == pytest.approx((1 + 1 / 2) / 2)
    assert m["hit@1"] == pytest.approx(0.5)
    assert m["hit@3"] == pytest.approx(1.0)


def test_users_without_truth_are_left_out_and_k_is_checked():
    hits = np.array([[True, False], [False, False]])
    m = ranking_metrics(hits, np.array([1, 0]), ks=(2,))
    assert m["recall@2"] == 1.0
    with pytest.raises(ValueError, match="longer"):
        ranking_metrics(hits, np.array([1, 1]), ks=(5,))
    with pytest.raises(ValueError, match="no user"):
        ranking_metrics(hits, np.array([0, 0]), ks=(2,))


def test_top_k_is_sorted_and_breaks_ties_by_index():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, -np.inf]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]
    assert top_k(scores, 10).shape == (1, 5)


def test_coverage_and_popularity():
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 0]], np.float32))
    ranked = np.array([[0, 2], [0, 3]])
    out = beyond_accuracy(ranked, train, ks=(1, 2))
    assert out["coverage@1"] == pytest.approx(1 / 4)
    assert out["coverage@2"] == pytest.approx(3 / 4)
    assert out["popularity@1"] == pytest.approx(1.0)  # item 0: both users
