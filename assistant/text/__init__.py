"""Words as the rest reads them: tokens, stopwords and stems (`terms`), and people's names
(`people`: who a sentence is about). Pure functions on strings; no model, no index, no I/O.

May import: nothing of ours.
"""
