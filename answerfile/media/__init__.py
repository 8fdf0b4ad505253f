"""Prepared install media: `keel-answer prepare-iso` puts an answer source into a Keel ISO, `inspect-iso` shows it.

Unlike the rest of `answerfile` (which imports only the core), these modules run xorriso through the runner
and render iPXE scripts with iso-build's boot menus; the import-graph test gives them a layer of their own.
"""
