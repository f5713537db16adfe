"""Words as the rest reads them: tokens, stopwords and stems (`terms`), people's names
(`people`: who a sentence is about), and the words a site sets against each other (`contrasts`).
Pure functions on strings; no model, no index, no I/O.

May import: nothing of ours.
"""
