"""Worker processes for the fault tests (module-level so that spawned processes can import them)."""

from __future__ import annotations

import datetime as dt
import sys

BASE = dt.date(2000, 1, 1)
PATIENTS = 20
PER_PATIENT = 25  # visits per process and patient: 20 x 25 = 500 visits per process


def visit_date(proc: int, i: int) -> dt.date:
    return BASE + dt.timedelta(days=proc * PER_PATIENT + i)


def write_many(url: str, proc: int) -> list[int]:
    """Write 500 visits, interleaved over 20 patients shared with the other processes (disjoint dates)."""
    from calcinosis.registry.api import open_registry
    from calcinosis.registry.inputs import LesionInput, VisitInput

    ids = []
    with open_registry(url, today=dt.date(2030, 1, 1), actor=f"proc{proc}") as reg:
        for i in range(PER_PATIENT):
            for p in range(PATIENTS):
                v = VisitInput(visit_date(proc, i), (LesionInput("back", 5.0 + (i % 7), 4.0),))
                ids.append(reg.add_visit(f"conc-{p:02d}", v, reassess="never")["visit_id"])
    return ids


def killable_writer(url: str, hold: bool) -> None:
    """Write visits forever, printing each committed date; with ``hold``, stop inside a transaction."""
    import time

    from calcinosis.registry.api import open_registry
    from calcinosis.registry.inputs import LesionInput, VisitInput

    reg = open_registry(url, today=dt.date(2030, 1, 1), actor="killable")
    n = 0
    state = {"n": 0}

    def before_commit(_session):
        state["n"] += 1
        if hold and state["n"] == 6:  # the 6th visit is written but not committed: say so and wait
            print("IN_TX", flush=True)
            time.sleep(60)

    reg.writer.before_commit = before_commit
    while True:
        d = BASE + dt.timedelta(days=n)
        reg.add_visit("kill-01", VisitInput(d, (LesionInput("back", 6.0, 4.0),)), reassess="never")
        print(f"COMMITTED {d.isoformat()}", flush=True)
        n += 1


if __name__ == "__main__":
    killable_writer(sys.argv[1], sys.argv[2] == "hold")
