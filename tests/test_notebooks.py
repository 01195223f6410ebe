"""The notebooks are thin memos: numbered, a parameters cell, no function definitions, outputs only where nbval checks."""
import re

import nbformat
import pytest

from helpers.report.run import notebook_paths

NOTEBOOKS = notebook_paths()
PARAMETERS = ("data_dir", "config_path", "period", "as_of", "lang", "metrics_path")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "alignment-workbook"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = re.findall(r"^(\w+): \w+ = .+  # .+$", tagged[0].source, flags=re.M)
    assert tuple(names[:len(PARAMETERS)]) == PARAMETERS  # literals only, each annotated and commented
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not re.search(r"^\s*(def|class) ", cell.source, flags=re.M), "functions belong in helpers/"
        assert "sys.path" not in cell.source
        assert not re.search(r"^\s*(for|while) ", cell.source, flags=re.M), "loops over data belong in helpers/"
        checked = cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
        if checked:
            assert cell.outputs, "a checked cell needs its stored output (make notebooks-refresh)"
        else:
            assert not cell.outputs, "only nbval-checked outputs are stored (make notebooks-refresh)"
    assert path.stat().st_size < 100_000


def test_every_notebook_checks_key_figures():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert any(c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in nb.cells), path.name
