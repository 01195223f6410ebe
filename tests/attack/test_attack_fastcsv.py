"""More fuzzed CSV files for the fast reader: the fast and the exact reader agree (tests/test_fastcsv.py's fuzz, longer).

make test runs 50 derandomized examples of tests/test_fastcsv.py::test_fuzzed_csv_text_reads_the_same (the main
suite's time); this runs 150 others of the same files (a test of its own name, so hypothesis draws another
derandomized sequence), as the attack suite's share of the reader's fuzzing.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from test_fastcsv import FUZZED_FILES, fuzzed_file_reads_the_same


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(**FUZZED_FILES)
def test_many_fuzzed_csv_files_read_the_same_fast_and_exact(tmp_path_factory, rows, sep, quoting, eol, bom, blank):
    fuzzed_file_reads_the_same(tmp_path_factory, rows, sep, quoting, eol, bom, blank)
