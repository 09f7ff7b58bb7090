"""Population screening of FHIR Bulk Data exports (DuckDB or Spark) and a synthetic export generator.

Engines scan and gather; every candidate is assessed by the same single-patient FHIR reader and core."""
