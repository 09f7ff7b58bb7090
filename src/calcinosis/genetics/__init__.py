"""HPO adapter: ranks rare and genetic diseases of skin/soft-tissue calcification and ossification on hpo3.

Imported lazily (extra ``hpo``); the pure core only receives the ranking it computes.
"""
