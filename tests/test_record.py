"""The figure recorder and deterministic JSON."""
import json

import numpy as np
import pandas as pd

from helpers.report.record import Recorder
from helpers.storage import dumps, to_jsonable


def test_to_jsonable_types():
    value = {"a": np.int64(3), "b": np.float64(0.25), "c": float("nan"), "d": pd.Timestamp("2025-07-01"),
             "e": pd.NaT, "f": [np.bool_(True), None], "g": pd.Timestamp("2025-07-01 10:30")}
    assert to_jsonable(value) == {"a": 3, "b": 0.25, "c": None, "d": "2025-07-01", "e": None, "f": [True, None],
                                  "g": "2025-07-01T10:30:00"}


def test_dumps_is_deterministic_and_keeps_unicode():
    text = dumps({"z": 1, "a": {"受注率": 0.5}})
    assert text == '{\n  "z": 1,\n  "a": {\n    "受注率": 0.5\n  }\n}\n'


def test_recorder_merges_sections(tmp_path):
    path = tmp_path / "p" / "metrics.json"
    r = Recorder(path)
    r.update({"period": "2025Q3", "pipeline": {"won_count": 2}})
    r.put("checklist", {"overall_score": 60.8})
    r.put("pipeline", {"won_count": 3})
    assert json.loads(path.read_text()) == {"period": "2025Q3", "pipeline": {"won_count": 3}, "checklist": {"overall_score": 60.8}}
    assert list(json.loads(path.read_text())) == ["period", "pipeline", "checklist"]
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temporary file left behind


def test_recorder_without_path_records_nothing(tmp_path):
    r = Recorder("")
    r.put("x", 1)
    assert r.read() == {}
