"""Validator of the FHIR mapping file (``fhir_mappings.yaml``), run with the whole knowledge base."""

from calcinosis.io.fhir_map import check_mappings
from calcinosis.kb.loader import validator

validator(check_mappings)
