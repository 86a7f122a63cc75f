"""A Searcher owns one index (Store) and one embedding model (Embedder) for a run of searches: a
command, the web server's life, an evaluation. Search, every answer and themes all go through it,
so the store is opened and its model checked once, and no caller threads the pair around."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.finding import search as ranking
from pipeline.finding.filters import SearchFilters
from pipeline.finding.hits import Answers, Hit
from pipeline.finding.options import QUERY, SearchRequest, ThemesRequest

if TYPE_CHECKING:
    from pipeline.finding.all_cut import AllCut
    from pipeline.finding.themes import Theme
    from pipeline.finding.translation import QuoteTranslator
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.spread import Scale
    from pipeline.indexing.store import Store


class Searcher:
    def __init__(self, settings: Settings, *, store: Store | None = None, embedder: Embedder | None = None):
        """Over the index `settings` name (opened read-only on first use), unless `store` is given;
        `embedder` likewise (loaded on first use)."""
        self.settings = settings
        self._store = store
        self._embedder = embedder
        self._owns_store = store is None
        self._checked = False
        self._scale: Scale | None = None
        self._translator: QuoteTranslator | None = None  # Whisper, loaded at the first --translate

    @property
    def store(self) -> Store:
        if self._store is None:
            from pipeline.indexing.store import open_store

            self._store = open_store(self.settings, create=False)
        return self._store

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from pipeline.indexing.embed import Embedder

            self._embedder = Embedder(self.settings.embedding)
        return self._embedder

    def embedder_if_loaded(self) -> Embedder | None:
        """The embedder when one was loaded or given: a new Searcher over a reopened index reuses it."""
        return self._embedder

    def checked_store(self) -> Store:
        """The store, once checked to hold vectors made by this embedding recipe (ConfigError if not)."""
        store = self.store
        if not self._checked:
            from pipeline.indexing.recipe import configured_recipe, recipe_of

            # What the settings and the model's folder say first: a changed prompt or new weights are
            # refused before the model loads; then what only the loaded model knows (its size).
            store.check_recipe(configured_recipe(self.settings.embedding))
            store.check_recipe(recipe_of(self.embedder))
            self._checked = True
        return store

    @property
    def scale(self) -> Scale:
        """The score cuts of this index's model and corpus (pipeline/indexing/spread.py): measured
        when the index was written, read once."""
        if self._scale is None:
            from pipeline.indexing.spread import scale_of

            self._scale = scale_of(self.checked_store().recipe().measured)
        return self._scale

    def all_cut(self, setting: float | None = None, *, mode: str | None = None) -> AllCut:
        """Where `search --all` cuts on this index (pipeline/finding/all_cut.py): `setting`
        (search.all_cutoff when None, all-MiniLM-L6-v2's units) moved to this model's scores."""
        from pipeline.finding.all_cut import search_all_cut

        return search_all_cut(self.settings.search, self.checked_store().recipe().measured, setting=setting, mode=mode)

    def measure_all_cut(self) -> dict[str, float]:
        """The levels `search --all`'s cut follows, measured on this index with the spread's probes
        (ingest and reindex record them with the recipe); none unless hybrid search fuses scores."""
        from pipeline.finding.all_cut import MIN_CHUNKS, measure_levels
        from pipeline.indexing.spread import PROBES

        if self.settings.search.fusion != "score" or self.checked_store().count() < MIN_CHUNKS:
            return {}
        pool = self.settings.search.all_candidates
        return measure_levels(lambda probe: self._rank(probe, pool=pool, filters=None, mode="hybrid").scored.values(), PROBES)

    def close(self) -> None:
        """Let go of the store if this Searcher opened it (the embedder stays loaded)."""
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None
            self._checked = False
            self._scale = None

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # What to search -------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        filters: SearchFilters | None = None,
        mode: str | None = None,
        per_recording: int | None = None,
    ) -> list[Hit]:
        """The `k` best quotes for `query` that pass `filters`, best first (search.k when None).

        `mode` is hybrid (search.mode), dense or keyword; `per_recording` caps the hits of one
        recording (search.per_recording; 0: no cap)."""
        options = self.settings.search
        k = options.k if k is None else config.rule("search.k").check(k, "k", UsageError)
        per_recording = options.per_recording if per_recording is None else per_recording
        found = self._rank(query, pool=max(options.candidates, 4 * k), filters=filters, mode=mode)
        return ranking.quote_hits(found, k=k, per_recording=per_recording, max_sentences=options.quote_sentences)

    def search_all(
        self, query: str, *, filters: SearchFilters | None = None, mode: str | None = None, cutoff: float | None = None
    ) -> list[Hit]:
        """Every passage that answers `query`, not a fixed k: each quote whose fused score reaches
        `cutoff` (search.all_cutoff, all-MiniLM-L6-v2's units, moved to this model's scores: all_cut),
        best first, one hit per passage; the same hits `search` gives, in the same order, only cut
        by score rather than count."""
        options = self.settings.search
        cut = self.all_cut(cutoff, mode=mode).in_use
        found = self._rank(query, pool=options.all_candidates, filters=filters, mode=mode)
        found.ranked = [chunk_id for chunk_id in found.ranked if found.scored[chunk_id] >= cut]
        return ranking.quote_hits(found, k=len(found.ranked), per_recording=0, max_sentences=options.quote_sentences)

    def every_answer(self, query: str, *, filters: SearchFilters | None = None) -> Answers:
        """`search_all`'s hits with the count: "pricing: 7 of 20 recordings, 9 quotes"."""
        from pipeline.finding.query import topic

        hits = self.search_all(query, filters=filters)
        searched = self.store.recording_count(self._resolved(filters).where() if filters else None)
        return Answers(topic(query), hits, searched)

    def themes(self, request: ThemesRequest) -> list[Theme]:
        """The themes of the customers' quotes (those answering the request's query, if any)."""
        from pipeline.finding.themes import find_themes

        return find_themes(
            self, query=request.query, filters=self._resolved(request.filters), min_recordings=request.min_recordings
        )

    def run(self, request: SearchRequest) -> tuple[list[Hit], Answers | None]:
        """What the command line, the page and the API ask: the best k hits, or with `every` every
        answering hit and its count."""
        if request.every:
            answers = self.every_answer(request.query, filters=request.filters)
            hits: list[Hit] = answers.hits
        else:
            answers = None
            hits = self.search(request.query, k=request.k, filters=request.filters, per_recording=request.per_recording)
        if request.translate:
            self.translate(hits)
        return hits, answers

    def translate(self, hits: list[Hit], *, files: Mapping[str, str] | None = None) -> None:
        """Whisper's English translation on each hit in another language (--translate); the model
        stays loaded, and each quote's translation is kept, for the next request."""
        if self._translator is None:
            from pipeline.finding.translation import QuoteTranslator

            self._translator = QuoteTranslator(self.settings.transcribe)
        self._translator.translate(hits, files=files)

    # How ----------------------------------------------------------------------------------
    def _rank(self, query: str, *, pool: int, filters: SearchFilters | None, mode: str | None) -> ranking.Ranking:
        if not query.strip():
            raise UsageError(f"{QUERY.name}: {QUERY.missing}")
        where = self._resolved(filters).where() if filters else None
        store = self.checked_store()
        return ranking.rank(
            query,
            settings=self.settings,
            store=store,
            embedder=self.embedder,
            scale=self.scale,
            pool=pool,
            where=where,
            mode=mode,
        )

    def _resolved(self, filters: SearchFilters) -> SearchFilters:
        """`filters` with a recording given by its path turned into its id, from the index."""
        if not filters.recording:
            return filters
        from dataclasses import replace

        return replace(filters, recording=self.recording_id(filters.recording))

    def recording_id(self, recording: str) -> str:
        """An indexed recording's id from its id or the path it was ingested from (as given, or
        resolved from the current folder); a UsageError when no indexed recording has either."""
        candidates = [recording, str(Path(recording).expanduser().resolve())]
        for candidate in candidates:
            found = self.store.recording_id_at(candidate)
            if found:
                return found
        if self.store.has_recording(recording):
            return recording
        raise UsageError(
            f"recording: no indexed recording has the id or path {recording!r}; give its id (recording_id in hits) "
            "or the path it was ingested from"
        )


def search_once(settings: Settings, request: SearchRequest) -> tuple[list[Hit], Answers | None]:
    """One search over the index `settings` name (the command line's): the hits, and with `every`
    their count."""
    with Searcher(settings) as searcher:
        return searcher.run(request)


def themes_once(settings: Settings, request: ThemesRequest) -> list[Theme]:
    """The themes of one request over the index `settings` name (the command line's)."""
    with Searcher(settings) as searcher:
        return searcher.themes(request)
