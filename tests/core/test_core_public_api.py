"""The public names of the package exist and work; `import calcinosis` stays light."""

from __future__ import annotations

import subprocess
import sys

import calcinosis


def test_exported_members():
    assert set(calcinosis.__all__) == {"INTENDED_USE", "__version__", "assess", "load_kb", "read_path", "to_dict"}
    for name in calcinosis.__all__:
        assert getattr(calcinosis, name) is not None


def test_public_api_round_trip(cases_dir):
    kb = calcinosis.load_kb()
    f = calcinosis.read_path(cases_dir / "dev" / "randhawa2018-seed.json", kb=kb)
    d = calcinosis.to_dict(calcinosis.assess(f, kb, as_of="2018-06-01"))
    assert d["schema"] == "calcinosis-assessment/1" and d["as_of"] == "2018-06-01"
    assert d["classification"]["type"] == "idiopathic"


def test_import_is_light():
    code = "import sys, calcinosis; print(len([m for m in sys.modules if m.startswith(('yaml', 'typer', 'rich'))]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
