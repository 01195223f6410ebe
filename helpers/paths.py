"""Project paths, from one place (cookiecutter-data-science's config.py pattern)."""
from __future__ import annotations

from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
HELPERS_DIR = PROJ_ROOT / "helpers"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
DATA_DIR = PROJ_ROOT / "data"
SAMPLE_DATA_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJ_ROOT / "reports"
DEFAULT_CONFIG_FILE = HELPERS_DIR / "default_config.yaml"
LABELS_FILE = HELPERS_DIR / "labels.yaml"
KERNEL_NAME = "alignment-workbook"
