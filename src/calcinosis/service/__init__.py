"""The web adapter: a CDS Hooks 2.0 service, the clinician web page and a JSON API, in one FastAPI app.

Build it with :func:`calcinosis.service.app.create_app`; ``calcinosis serve`` runs it under uvicorn.
"""
