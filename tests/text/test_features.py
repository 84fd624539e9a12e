import numpy as np
import pandas as pd

from socialgan.text.detect.nbsvm import log_count_ratio
from socialgan.text.features import MetaEncoder, preprocess_texts, web_text


def test_web_text_undoes_markup():
    raw = 'it&#39;s<br /><br /><a href="http://x.co/a">here</a>\xa0ok\ufeff'
    assert web_text(raw) == "it's http://x.co/a here ok"
    assert preprocess_texts(["a&amp;b"], "none") == ["a&amp;b"]


def test_meta_encoder_unknowns_and_state():
    train = pd.DataFrame({"party": ["red", "blue", "red"], "n": [0.0, 10.0, 100.0]})
    enc = MetaEncoder(["party", "n"]).fit(train)
    assert enc.kinds == {"party": "categorical", "n": "numeric"} and enc.n_features == 3
    x = enc.transform(pd.DataFrame({"party": ["green", "red"], "n": [np.nan, 10.0]}), 2)
    assert x.shape == (2, 3)
    assert x[0].toarray().tolist() == [[0.0, 0.0, 0.0]]  # unknown party, missing count -> mean
    assert x[1, 2] == 1.0
    config, arrays = enc.state()
    again = MetaEncoder.from_state(config, arrays)
    assert (again.transform(train, 3) != enc.transform(train, 3)).nnz == 0
    assert enc.transform(None, 2).nnz == 0


def test_log_count_ratio_sign():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]]))
    r = log_count_ratio(X, np.array([True, False]), alpha=0.1)
    assert r[0] > 0 > r[1] and r[2] == 1.0
