"""DuckDB and Spark (local mode, one session for the run) give identical tables on the same export."""

import pytest

pytest.importorskip("pyspark")

from calcinosis.screening.run import screen
from calcinosis.screening.synth import synth


@pytest.mark.slow
def test_duckdb_and_spark_give_identical_tables(tmp_path):
    exp = tmp_path / "exp"
    synth(600, exp, seed=11, seeded_per_1000=40, risk_per_1000=20)
    (exp / "Condition.0.ndjson").open("a").write("{broken line\n")  # errors must agree too
    d = screen(exp, tmp_path / "duck", progress=False)
    s = screen(exp, tmp_path / "spark", engine="spark", master="local[2]", progress=False)
    assert d.candidates == s.candidates > 20
    assert (tmp_path / "duck" / "screen.csv").read_bytes() == (tmp_path / "spark" / "screen.csv").read_bytes()
    assert (tmp_path / "duck" / "errors.csv").read_bytes() == (tmp_path / "spark" / "errors.csv").read_bytes()
