"""Evidence a product manager can share, built on what finding/ returns: highlights kept in named
collections (database.py, highlights.py), each a span of a transcript (spans.py) that outlives
re-indexing; audio clips cut at a quote's words (clips.py); and reports of a search or a collection
as one self-contained HTML file or Markdown with clip files (report.py, report_html.py,
report_markdown.py). The options of save, clip and report are declared in options.py."""
