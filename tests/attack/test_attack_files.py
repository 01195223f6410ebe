"""Attack: files that are not what they seem, links out of the folder, and settings paths that are folders (issue 21).

Real processes through the documented commands (helpers.report.run, helpers.data.ingest, helpers.metrics.warehouse):
- a sparse 2 GiB file of NUL bytes (and a 1 GiB UTF-16 file without a BOM) as a table, read under a 1 GiB address
  space limit: refused with the file's name and the cause, not a MemoryError or a kill;
- links to a file holding a secret line, planted in a data folder and an exports folder: refused naming the link,
  and the secret appears nowhere in the output;
- --config naming a folder: the settings path is named, never the output folder, in English and under a Japanese
  locale in Japanese;
- fuzzed first blocks (random bytes, magic numbers of other formats, NUL runs, UTF-16 halves) as every kind of
  table file: each loads or is refused with the workbook's own error, never a traceback.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.load import load_workbook
from helpers.errors import WorkbookError
from helpers_attack import RUNNER, assert_no_traceback, run_child

SECRET = "attack-secret-7f3a:x:0:0:do not print me\n"
#: The address space a child may use: the imports take about 400 MiB; reading a 2 GiB file whole cannot fit.
LIMIT_MB = 1024

LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit} << 20, {limit} << 20))
sys.argv = [sys.argv[0]] + sys.argv[1:]
from {module} import main
sys.exit(main(sys.argv[1:]))
"""


def limited(module: str) -> str:
    return LIMITED.format(limit=LIMIT_MB, module=module)


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


# --------------------------------------------------------------------------- big files that are not text
def test_runner_refuses_a_2gib_nul_file_under_a_memory_limit(tmp_path):
    data = write_folder(tmp_path / "data", {"opportunities.csv": OPPS_CSV})
    sparse(data / "leads.csv", 2 ** 31)
    proc = run_child(limited("helpers.report.run"), "--data", str(data), "--out", str(tmp_path / "reports"), timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "leads.csv: the file is not text: 100% of its first 64 KiB are NUL (zero) bytes" in proc.stderr
    assert "MemoryError" not in proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)


def test_ingest_refuses_a_large_utf16_export_without_bom_under_a_memory_limit(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    row = "0065g00000XyZa1,2025-01-22,2025-02-03,Closed Won,1200\n".encode("utf-16-le")
    with open(exports / "report1700000000000.csv", "wb") as fh:   # 1 GiB of it: the header, then the same row
        fh.write("Opportunity ID,Created Date,Close Date,Stage,Amount\n".encode("utf-16-le"))
        fh.write(row * 4096)
        fh.truncate(2 ** 30)
    proc = run_child(limited("helpers.data.ingest"), "--exports", str(exports), "--mapping", "salesforce_en",
                     "--out", str(tmp_path / "out"), timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "report1700000000000.csv: the file is UTF-16 text without its byte order mark" in proc.stderr
    assert "encoding: utf-16-le" in proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- links out of the folder
def test_runner_never_shows_a_file_linked_from_outside_the_data_folder(tmp_path):
    secret = tmp_path / "private" / "keys.csv"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV})
    os.symlink(secret, data / "opportunities.csv")
    proc = run_child(RUNNER, "--data", str(data), "--out", str(tmp_path / "reports"), timeout=300)
    assert proc.returncode == 2
    assert "opportunities.csv: a link (shortcut) that leads outside the folder 'data'" in proc.stderr
    assert "attack-secret" not in proc.stdout + proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)


@pytest.mark.parametrize("mapping", ["salesforce_en", "hubspot", "canonical_ja"])
def test_ingest_never_shows_a_file_linked_from_outside_the_exports_folder(tmp_path, mapping):
    secret = tmp_path / "private" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET * 3, encoding="utf-8")
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": OPPS_CSV})
    os.symlink(secret, exports / "deals.csv")
    proc = run_child("import sys\nfrom helpers.data.ingest import main\nsys.exit(main(sys.argv[1:]))",
                     "--exports", str(exports), "--mapping", mapping, "--out", str(tmp_path / "out"), timeout=300)
    assert proc.returncode == 2
    assert "deals.csv: a link (shortcut) that leads outside the folder 'exports'" in proc.stderr
    assert "attack-secret" not in proc.stdout + proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)


# --------------------------------------------------------------------------- --config naming a folder
CLIS = {
    "runner": ("helpers.report.run", ["--data", "{data}", "--out", "{out}"]),
    "ingest": ("helpers.data.ingest", ["--exports", "{data}", "--mapping", "canonical_ja", "--out", "{out}"]),
    "warehouse": ("helpers.metrics.warehouse", ["--warehouse", "duckdb://"]),
}


@pytest.mark.parametrize("cli", list(CLIS))
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_config_naming_a_folder_names_the_settings_path(tmp_path, cli, lang):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    settings = tmp_path / "team settings"
    settings.mkdir()
    (settings / "workbook.yaml").write_text("language: en\n", encoding="utf-8")
    module, args = CLIS[cli]
    argv = [a.format(data=data, out=tmp_path / "reports") for a in args] + ["--config", str(settings)]
    env = {"LANG": "ja_JP.UTF-8" if lang == "ja" else "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    proc = run_child(f"import sys\nfrom {module} import main\nsys.exit(main(sys.argv[1:]))", *argv, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    expected = ("the settings path given with --config is a folder" if lang == "en"
                else "設定ファイル(YAML)ではありません")
    assert expected in proc.stderr and str(settings / "workbook.yaml") in proc.stderr
    assert "cannot write the reports" not in proc.stderr and "output folder" not in proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert not (tmp_path / "reports").exists() or cli == "runner"


# --------------------------------------------------------------------------- fuzzed first blocks
MAGIC = [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PAR1", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf",
         b"<html>", b"%PDF-1.7", b"\x1f\x8b\x08", b""]


def fuzzed_block(rng: random.Random) -> bytes:
    """A first block an attacker (or a bad download) could hand over: a magic number, then text, NULs or noise."""
    start = rng.choice(MAGIC)
    body = rng.choice([
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))),
        lambda: b"\x00" * rng.randrange(1, 5000),
        lambda: OPPS_CSV.encode(rng.choice(["utf-16-le", "utf-16-be", "utf-8", "cp932"])),
        lambda: OPPS_CSV.encode()[: rng.randrange(len(OPPS_CSV))] + b"\x00" * rng.randrange(0, 3000),
        lambda: b"\n".join(bytes(rng.choice(b",;\t\"x\x00\r1") for _ in range(rng.randrange(40))) for _ in range(30)),
    ])()
    return start + body


@pytest.mark.parametrize("seed", range(40))
def test_fuzzed_first_blocks_load_or_are_refused(tmp_path, seed):
    rng = random.Random(seed)
    name = rng.choice(["opportunities.csv", "leads.csv", "spend.csv", "checklist.csv",
                       "opportunities.xlsx", "leads.parquet"])
    files = {"opportunities.csv": OPPS_CSV, "leads.csv": LEADS_CSV}
    files.pop(name, None)
    if name.startswith("opportunities."):
        files.pop("opportunities.csv", None)
    data = write_folder(tmp_path / "data", files)
    (data / name).write_bytes(fuzzed_block(rng))
    try:
        load_workbook(data)
    except WorkbookError as exc:
        text = str(exc)
        assert name in text and "\x00" not in text, text
