"""Small things a newcomer hits (issue 13): make help, make lab as root, .ci/run's pointers into the README."""
import os
import re
import subprocess

from helpers.paths import PROJ_ROOT


def make(*args: str) -> str:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=PROJ_ROOT, check=True, capture_output=True,
                          text=True).stdout


def test_make_help_aligns_every_line():
    lines = [line for line in make("help").splitlines() if line.strip()]
    targets = re.findall(r"^([a-z-]+):.*## ", (PROJ_ROOT / "Makefile").read_text(), flags=re.M)
    assert len(lines) == len(targets) >= 8
    starts = set()
    for line in lines:
        m = re.match(r"^  make (\S+)( +)(\S)", line)
        assert m, line
        starts.add(m.start(3))
    assert len(starts) == 1, lines  # every description starts in the same column
    assert "notebooks-refresh" in make("help")


def test_make_lab_may_run_as_root():
    command = make("-n", "lab").strip().splitlines()[-1]
    assert "-m helpers.report.lab" in command  # which starts jupyter lab on the working copies, passing the arguments after --
    assert ("--allow-root" in command.partition(" -- ")[2]) == (os.geteuid() == 0)
    from helpers.report.lab import lab_command

    launched = lab_command(PROJ_ROOT / "work" / "notebooks", ["--allow-root"])
    assert launched[0].endswith("jupyter") and launched[1] == "lab" and launched[-1] == "--allow-root"


def test_ci_script_points_only_at_readme_sections_that_exist():
    ci = (PROJ_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", (PROJ_ROOT / "README.md").read_text(encoding="utf-8"), flags=re.M)
    named = re.findall(r"README's \"([^\"]+)\" section", ci)
    for section in named:
        assert any(h.startswith(section) for h in headings), f".ci/run names a README section {section!r} that does not exist"
    assert named, ".ci/run should say where the README explains its install step"
