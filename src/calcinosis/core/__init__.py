"""Pure assessment core: Findings in, Assessment out, with reasons and sources.

No file, network, database or clock access here: the knowledge base and the "as of" date are handed in.
"""
