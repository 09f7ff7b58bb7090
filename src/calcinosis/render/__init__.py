"""Renderings of one Assessment: JSON (the contract), text for a clinician, and HTML.

Every rendering comes from the same object; none adds clinical content of its own.
"""
