"""``calcinosis registry``: the follow-up registry (init, add-patient, add-visit, show, report, export)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import typer

from calcinosis.errors import InputError

HELP = """Follow-up registry: patients, visits, lesion sizes, trajectories and plans.

SQLite file in the data folder by default (CALCINOSIS_DATA_DIR or XDG_DATA_HOME); --db URL for another
file or PostgreSQL (postgresql+psycopg://user@host/db).

Example:

  calcinosis registry init

  calcinosis registry add-patient P001 --birth-date 2017-01-15 --case seed.json
"""

DB_HELP = "Database URL (default: $CALCINOSIS_REGISTRY_URL or the SQLite file in the data folder)."
TODAY_HELP = "Today's date for the date checks (YYYY-MM-DD; default: the system date)."


def _date(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date: {text!r}", where=field, code="BAD_DATE", hint="use YYYY-MM-DD") from None


def _open(db: str | None, today: str | None = None, actor: str | None = None) -> Any:
    from calcinosis.registry.api import open_registry

    return open_registry(db, today=_date(today, "--today"), actor=actor)


def _read_json(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", where=f"{field} {path}", code="FILE_NOT_FOUND") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read: {exc}", where=f"{field} {path}", code="FILE_UNREADABLE") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg} at line {exc.lineno}", where=str(path),
                         code="MALFORMED_JSON") from None


def _out(data: str | bytes, out: Path | None) -> None:
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data if data.endswith("\n") else data + "\n")
        return
    try:
        if isinstance(data, bytes):
            out.write_bytes(data)
        else:
            out.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=f"--out {out}", code="FILE_UNWRITABLE") from None
    print(f"wrote {out}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    reg = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(reg, name="registry")

    @reg.command("init", help="Create the registry database or upgrade it to the current schema.\n\n"
                              "Example:\n\n  calcinosis registry init --db sqlite:////tmp/registry.sqlite")
    def init(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
        from calcinosis.registry.api import init_registry

        url, rev = init_registry(db)
        print(f"registry ready at {url} (schema {rev})", file=sys.stderr)

    @reg.command("add-patient", help="Register a patient under a pseudonymous id (never a name or record number)."
                                     "\n\nExample:\n\n  calcinosis registry add-patient P001 --birth-date 2017-01-15 "
                                     "--sex female --case /work/shared/cases/dev/randhawa2018-seed.json")
    def add_patient(
        patient_id: str = typer.Argument(..., help="Pseudonymous id: letters, digits, '.', '_', '-'."),
        birth_date: str | None = typer.Option(None, "--birth-date", help="Date of birth (YYYY-MM-DD)."),
        age_months: float | None = typer.Option(None, "--age-months", help="Age today, when no birth date."),
        sex: str | None = typer.Option(None, "--sex", help="female or male."),
        onset_months: float | None = typer.Option(None, "--onset-months", help="Age when lesions were noticed."),
        case: Path | None = typer.Option(None, "--case", help="Baseline calcinosis-case/1 file (history, "
                                                                 "histology, baseline labs)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        today: str | None = typer.Option(None, "--today", help=TODAY_HELP),
        actor: str | None = typer.Option(None, "--actor", help="Who writes (audit log; default: OS user)."),
    ) -> None:
        from calcinosis.registry.inputs import DAYS_PER_MONTH, PatientInput

        baseline = _read_json(case, "--case") if case else None
        p = PatientInput(patient_id, _date(birth_date, "--birth-date"),
                         None if age_months is None else age_months * DAYS_PER_MONTH,
                         sex.lower() if sex else None,
                         None if onset_months is None else onset_months * DAYS_PER_MONTH, baseline)
        with _open(db, today, actor) as r:
            r.add_patient(p)
        print("patient registered", file=sys.stderr)

    @reg.command("add-visit", help="Record a visit: lesion sizes, findings and labs (or --json FILE).\n\n"
                                   "Example:\n\n  calcinosis registry add-visit P001 --date 2017-08-15 "
                                   "--lesion 'back#1:12x9' --lesion 'left thigh:9x7' --lab calcium=2.4mmol/L"
                                   "\n\n  calcinosis registry add-visit P001 --date 2017-11-15 --resolved back#1")
    def add_visit(
        patient_id: str = typer.Argument(..., help="Pseudonymous id of a registered patient."),
        date: str | None = typer.Option(None, "--date", help="Visit date (YYYY-MM-DD)."),
        lesion: list[str] = typer.Option([], "--lesion", help="LABEL:LONGESTxSECOND in mm[,count=N][,ulcerated]; "
                                                               "repeat per lesion, e.g. 'back#1:12x8'."),
        resolved: list[str] = typer.Option([], "--resolved", help="Label of a lesion that has resolved (repeat)."),
        painful: bool | None = typer.Option(None, "--painful/--not-painful", help="Lesions painful."),
        ulcerated: bool | None = typer.Option(None, "--ulcerated/--not-ulcerated", help="Ulceration."),
        infection: bool | None = typer.Option(None, "--infection/--no-infection", help="Infection."),
        systemic: list[str] = typer.Option([], "--systemic", help="A new systemic sign, in words (repeat)."),
        lab: list[str] = typer.Option([], "--lab", help="ANALYTE=VALUEUNIT or ANALYTE=normal|high|low (repeat)."),
        note: str | None = typer.Option(None, "--note", help="Free-text note."),
        json_file: Path | None = typer.Option(None, "--json", help="The visit as a JSON file instead."),
        reassess: str = typer.Option("auto", "--reassess", help="auto (first visit, red flags, labs) | always | never."),
        fmt: str = typer.Option("text", "--format", help="text or json."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        today: str | None = typer.Option(None, "--today", help=TODAY_HELP),
        actor: str | None = typer.Option(None, "--actor", help="Who writes (audit log; default: OS user)."),
    ) -> None:
        from calcinosis.registry.inputs import (
            LesionInput,
            VisitInput,
            _Issues,
            check_visit,
            parse_date,
            parse_lab_option,
            parse_lesion_option,
            visit_from_json,
        )

        if reassess not in ("auto", "always", "never"):
            raise InputError(f"unknown value {reassess!r}", where="--reassess", hint="auto, always or never")
        if json_file is not None:
            if date or lesion or resolved or lab or systemic:
                raise InputError("give the visit either as options or as --json, not both", where="--json")
            visit = visit_from_json(_read_json(json_file, "--json"), str(json_file))
        else:
            issues = _Issues("")
            if date is None:
                issues.err("--date", "the visit date is required", "e.g. --date 2017-08-15")
            d = parse_date(date, "--date", issues) if date else None
            les = [parse_lesion_option(x, f"--lesion {x!r}", issues) for x in lesion]
            les += [LesionInput(x.strip(), status="resolved") for x in resolved]
            labs = [parse_lab_option(x, f"--lab {x!r}", issues) for x in lab]
            issues.raise_if_any()
            findings: dict[str, Any] = {k: v for k, v in (("painful", painful), ("ulcerated", ulcerated),
                                                           ("infection", infection)) if v is not None}
            if systemic:
                findings["systemic"] = list(systemic)
            if note:
                findings["note"] = note
            assert d is not None
            visit = check_visit(VisitInput(d, tuple(x for x in les if x), findings, tuple(x for x in labs if x)))
        with _open(db, today, actor) as r:
            out = r.add_visit(patient_id, visit, reassess=reassess)
        if fmt == "json":
            _out(json.dumps(out, indent=2, default=str), None)
            return
        lines = [f"visit {out.get('date', visit.date)} stored; trajectory: {out.get('trajectory', '?')}"]
        for f in out.get("red_flags") or []:
            lines.append(f"RED FLAG: {f['label']} - {f['detail']} -> {f['action']}")
        if out.get("plan"):
            lines.append(f"plan: {out['plan']['effective_strategy']} ({out['plan']['why']})")
        _out("\n".join(lines), None)

    @reg.command("show", help="Show a patient's timeline: visits, lesions, trajectory and current plan.\n\n"
                              "Example:\n\n  calcinosis registry show P001 --format json")
    def show(
        patient_id: str | None = typer.Argument(None, help="Pseudonymous id (omit with --all)."),
        all_: bool = typer.Option(False, "--all", help="List the registered patient ids."),
        fmt: str = typer.Option("text", "--format", help="text or json."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        with _open(db) as r:
            if all_ or patient_id is None:
                _out("\n".join(r.patient_ids()) or "(no patients)", None)
                return
            tl = r.patient_timeline(patient_id)
        if fmt == "json":
            _out(json.dumps(tl, indent=2, default=str), None)
            return
        t = tl["trajectory"]
        lines = [f"patient {patient_id}: {len(tl['visits'])} visit(s); trajectory {t['current']}"
                 + (f", resolved {t['resolved_date']}" if t["resolved_date"] else "")]
        for v in tl["visits"]:
            sizes = ", ".join(f"{m['lesion']} " + (m["status"] if m["status"] == "resolved" else
                              f"{m['longest_mm']:g}" + (f"x{m['second_mm']:g}" if m["second_mm"] else "") + " mm")
                              for m in v["measurements"])
            lines.append(f"  {v['date']} ({v['age_months']} mo): {v['trajectory']}: {sizes}")
        plan = tl["current_plan"]
        if plan:
            lines.append(f"plan ({plan['as_of']}): {plan['effective_strategy']} - {plan['why']}")
        _out("\n".join(lines), None)

    @reg.command("report", help="Write the visit report (HTML or PDF) or the chart (PNG or SVG) of a patient.\n\n"
                                "Example:\n\n  calcinosis registry report P001 --out report.pdf\n\n"
                                "  calcinosis registry report P001 --out chart.png")
    def report(
        patient_id: str = typer.Argument(..., help="Pseudonymous id."),
        out: Path = typer.Option(..., "--out", help="Output file: .html, .pdf, .png or .svg."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        kind = out.suffix.lower().lstrip(".")
        if kind not in ("html", "pdf", "png", "svg"):
            raise InputError(f"unknown output type {out.suffix!r}", where="--out", hint="use .html, .pdf, .png or .svg")
        with _open(db) as r:
            data: str | bytes = {"html": r.report_html, "pdf": r.report_pdf, "png": r.chart_png,
                                 "svg": r.chart_svg}[kind](patient_id)
        _out(data, out)

    @reg.command("export", help="Export measurements as CSV or as a FHIR R4 Bundle of tumour-size Observations."
                                "\n\nExample:\n\n  calcinosis registry export P001 --format fhir --out p001.json")
    def export(
        patient_id: str | None = typer.Argument(None, help="Pseudonymous id (default: every patient)."),
        fmt: str = typer.Option("csv", "--format", help="csv or fhir."),
        out: Path | None = typer.Option(None, "--out", help="Output file (default: stdout)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        from calcinosis.registry.export import export_csv, export_fhir

        if fmt not in ("csv", "fhir"):
            raise InputError(f"unknown format {fmt!r}", where="--format", hint="csv or fhir")
        with _open(db) as r:
            ids = [patient_id] if patient_id else r.patient_ids()
            tls = [r.patient_timeline(i) for i in ids]
        _out(export_csv(tls) if fmt == "csv" else json.dumps(export_fhir(tls), indent=2), out)
