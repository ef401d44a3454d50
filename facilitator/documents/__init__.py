"""Printable documents: worksheets, facilitator guides and the participant handbook, as PDF.

service.py renders (WeasyPrint, fonts, stylesheet, sandboxed fetcher, cache); builders.py turns
curriculum objects into HTML; catalog.py resolves codes and participants into orders; jobs.py runs
long renders in worker processes; views.py and cli.py deliver them. Nothing here imports
WeasyPrint until the first render.
"""
