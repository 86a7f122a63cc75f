"""`heard serve`: the search page, recording pages, audio, exports and a JSON API (app.py with
pages.py, files.py and api.py), over one Library of the data dir (library.py)."""
