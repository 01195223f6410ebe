"""Project paths, from one place (cookiecutter-data-science's config.py pattern)."""
from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
HELPERS_DIR = PROJ_ROOT / "helpers"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
DATA_DIR = PROJ_ROOT / "data"
SAMPLE_DATA_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJ_ROOT / "reports"
DEFAULT_CONFIG_FILE = HELPERS_DIR / "default_config.yaml"
LABELS_FILE = HELPERS_DIR / "labels.yaml"
TEMPLATES_DIR = HELPERS_DIR / "report" / "templates"
STYLESHEET_FILE = TEMPLATES_DIR / "workbook" / "workbook.css"
KERNEL_NAME = "alignment-workbook"


def is_tracked_sample(path: str | os.PathLike) -> bool:
    """True when `path` is inside the shipped (git-tracked) sample folder, which the form never writes."""
    try:
        Path(path).resolve().relative_to(SAMPLE_DATA_DIR.resolve())
    except ValueError:
        return False
    return True
