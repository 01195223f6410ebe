"""The environment files agree: environment.yml pins the same versions as requirements.lock."""
import re
import tomllib

import yaml

from helpers.paths import PROJ_ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions() -> dict[str, str]:
    out = {}
    for line in (PROJ_ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            out[_norm(name)] = version.strip()
    return out


def env_versions() -> dict[str, str]:
    env = yaml.safe_load((PROJ_ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                if "==" in pip_dep:
                    name, version = pip_dep.split("==")
                    out[_norm(name)] = version
        elif "=" in dep and not dep.startswith("python="):
            name, version = dep.split("=", 1)
            out[_norm(name)] = version
    return out


def test_environment_yml_matches_the_lock():
    lock, env = lock_versions(), env_versions()
    assert len(env) >= 15
    disagree = {name: (version, lock.get(name)) for name, version in env.items() if lock.get(name) != version}
    assert disagree == {}, "environment.yml and requirements.lock pin different versions (env, lock)"


def test_every_direct_dependency_is_pinned_in_both():
    project = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())["project"]
    direct = {_norm(re.split(r"[<>=!~ ]", d)[0]) for d in project["dependencies"]}
    lock, env = lock_versions(), env_versions()
    assert direct - set(lock) == set()
    assert direct - set(env) == set()
    assert {"pandas", "seaborn", "ipywidgets", "jupyterlab", "papermill", "nbval", "matplotlib-fontja"} <= direct
    assert lock["pandas"].startswith("3.")


def test_data_dictionary_lists_every_canonical_column():
    from helpers.data.schema import TABLES

    text = (PROJ_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"## {table.name}.csv" in text
        for column in table.column_names:
            assert column in text, f"{table.name}.{column} missing from docs/data_dictionary.md"
