"""An age read from the words a report uses ("a 10-day-old", "aged 3 years", "8 meses", "newborn"), for a case
whose ``age_months`` is null but whose ``age_text`` says it. Only unambiguous wordings are read; anything else
leaves the age unknown (never guessed)."""

from __future__ import annotations

import re

from calcinosis.io.case import DAYS_PER_MONTH

# unit words (English, Spanish, Portuguese, French, Italian, German) -> days per unit
_UNITS = {
    "day": 1.0, "days": 1.0, "d": 1.0, "dia": 1.0, "dias": 1.0, "día": 1.0, "días": 1.0, "jour": 1.0, "jours": 1.0,
    "giorni": 1.0, "tage": 1.0,
    "week": 7.0, "weeks": 7.0, "wk": 7.0, "wks": 7.0, "semana": 7.0, "semanas": 7.0, "semaine": 7.0, "semaines": 7.0,
    "month": DAYS_PER_MONTH, "months": DAYS_PER_MONTH, "mo": DAYS_PER_MONTH, "mos": DAYS_PER_MONTH,
    "mes": DAYS_PER_MONTH, "meses": DAYS_PER_MONTH, "mois": DAYS_PER_MONTH, "mesi": DAYS_PER_MONTH,
    "monate": DAYS_PER_MONTH, "monaten": DAYS_PER_MONTH,
    "year": 365.25, "years": 365.25, "yr": 365.25, "yrs": 365.25, "y": 365.25, "año": 365.25, "años": 365.25,
    "ano": 365.25, "anos": 365.25, "an": 365.25, "ans": 365.25, "anni": 365.25, "jahre": 365.25, "jahren": 365.25,
}
_NUM_UNIT = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*[- ]?\s*(" + "|".join(
    sorted((re.escape(u) for u in _UNITS), key=len, reverse=True)) + r")\b", re.IGNORECASE)
# "newborn" and its equivalents: the neonatal period (first 28 days); read as 14 days, the middle of it
_NEWBORN = re.compile(r"\b(newborn|new-born|neonate|neonatal|recién nacido|recien nacido|recém-nascido|"
                      r"recem-nascido|recém nascido|nouveau-né|nouveau-ne|neonato|neugeborene[sn]?)\b", re.IGNORECASE)
NEWBORN_DAYS = 14.0


def age_days_from_text(text: str | None) -> tuple[float, str] | None:
    """(age in days, how it was read) when the text gives one age unambiguously; None otherwise."""
    if not text:
        return None
    hits = {(float(m.group(1).replace(",", ".")), _UNITS[m.group(2).lower()]) for m in _NUM_UNIT.finditer(text)}
    if len(hits) == 1:
        (n, per), = hits
        days = n * per
        return days, f"age read from age_text {text!r}: {days:g} days"
    if not hits and _NEWBORN.search(text):
        return NEWBORN_DAYS, (f"age read from age_text {text!r}: a newborn, taken as {NEWBORN_DAYS:g} days "
                              "(the neonatal period)")
    return None
