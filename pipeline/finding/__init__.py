"""Finding what was said: a question's subject (query.py), dense + keyword retrieval fused and
weighted (search.py, fusion.py), trimmed to timestamped quotes (quotes.py) that pass the filters
(filters.py), written out as a table, JSON, Markdown or CSV (formats.py), and measured (eval.py).

In: a question and filters. Out: [hits.Hit] (quote, speaker, role, recording, start, end, score).
"""
