"""`heard serve`: a search page, recording pages, exports and a JSON API over the same index."""
