"""Adapters that turn inputs (case files, Phenopackets, FHIR R4 Bundles) into core Findings.

``read_path`` tells the format apart by content and returns Findings, or raises InputError naming file and field.
"""

from calcinosis.io.read import read_obj, read_path

__all__ = ["read_obj", "read_path"]
