"""helpers.data.codes: a label column is hashed once for the loader's checks, channel folding, pseudonyms and categories."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import codes as codes_module
from helpers.data.channels import normalize_channels
from helpers.data.codes import factorized
from helpers.data.load import pseudonymize_owners


def _text(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_factorized_is_pandas_factorize_with_narrow_read_only_codes():
    s = _text(["Web", None, "展示会", "Web", "広告"])
    codes, distinct = factorized(s)
    assert codes.tolist() == [0, -1, 1, 0, 2] and codes.dtype == np.int8
    assert list(distinct) == ["Web", "展示会", "広告"]
    with pytest.raises(ValueError):
        codes[0] = 5   # shared with every later caller: never changed in place


def test_the_same_column_is_hashed_once(monkeypatch):
    s = _text(["a", "b", "a"])
    first = factorized(s)
    monkeypatch.setattr(codes_module.pd, "factorize", lambda *a, **k: pytest.fail("hashed again"))
    again = factorized(s.copy(deep=False))   # another Series over the same data: the memo's
    assert again[0] is first[0] and list(again[1]) == ["a", "b"]


def test_other_data_is_hashed_anew():
    a, b = _text(["x", "y"]), _text(["y", "x", "y"])
    assert factorized(a)[0].tolist() == [0, 1] and factorized(b)[0].tolist() == [0, 1, 0]
    assert list(factorized(b)[1]) == ["y", "x"]
    obj = pd.Series(["p", None, "p"], dtype=object)   # not Arrow data: plain pd.factorize, not memoized
    assert factorized(obj)[0].tolist() == [0, -1, 0] and factorized(obj)[0].dtype == np.intp


def test_pseudonyms_carry_their_codes(monkeypatch):
    leads = pd.DataFrame({"owner": _text(["Sato", None, "Abe", "Sato"])})
    opps = pd.DataFrame({"owner": _text(["Abe", "Kato"])})
    leads, opps = pseudonymize_owners(leads, opps)
    assert leads["owner"].tolist()[0] == "Owner 03" and pd.isna(leads["owner"].tolist()[1])
    monkeypatch.setattr(codes_module.pd, "factorize", lambda *a, **k: pytest.fail("hashed again"))
    codes, distinct = factorized(leads["owner"])
    assert codes.tolist() == [0, -1, 1, 0] and list(distinct) == ["Owner 03", "Owner 01"]
    assert list(factorized(opps["owner"])[1]) == ["Owner 01", "Owner 02"]


def test_normalize_channels_keeps_a_column_it_does_not_change():
    leads = pd.DataFrame({"channel": _text(["Web", "広告", None])})
    opps = pd.DataFrame({"channel": _text(["Web", "Select"])})
    out, findings = normalize_channels({"leads": leads, "opportunities": opps}, True, {})
    assert out["leads"] is leads   # same frame, same text data: no object column of a million references
    assert out["opportunities"]["channel"].tolist() == ["Web", None]
    assert [f.code for f in findings] == ["channel_placeholder"]
