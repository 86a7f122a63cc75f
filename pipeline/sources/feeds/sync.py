"""The feed step of ingest: bring each feed's episodes into the data dir as recordings that the
ordinary per-recording path then indexes.

Each feed gets a folder, <data dir>/feeds/<host-path-hash>/, holding per episode:
  <date>-<title>-<key>.<audio suffix>   the enclosure, renamed into place only when complete
  <date>-<title>-<key>.json|.vtt|.srt   the publisher's timed transcript, when it has one (then
                                        ingest imports it instead of running Whisper)
  <date>-<title>-<key>.yaml             metadata: show, episode title, date, link, season, episode,
                                        kind podcast, speakers (podcast:person), chapters
and .feed.json, the feed's state (state.py): its ETag / Last-Modified and every episode seen, with
what was done about it. Hidden files (the state, partial downloads) are never taken for recordings.

Order of writes per episode: sidecar and transcript first, the audio's rename last, so ingest
never sees the audio without the transcript that belongs to it. Files are never deleted here: an
episode that leaves the feed keeps its files and so its chunks.
"""

from __future__ import annotations

import datetime
import errno
import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.errors import HeardError, RecordingError, StorageError
from pipeline.files import JsonObject, write_text_atomically
from pipeline.messages import counted
from pipeline.sources import importers
from pipeline.sources.feeds import identity, published
from pipeline.sources.feeds.fetch import Client, FileTooBig, Limits
from pipeline.sources.feeds.merge import merge_episodes
from pipeline.sources.feeds.parse import Episode, FeedError, parse_feed
from pipeline.sources.feeds.state import DONE, FAILED, EpisodeRecord, FeedState, adopt_legacy_folder, feed_folder
from pipeline.sources.importers import ImplausibleTranscript

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.transcripts import Transcript


class FeedLog(Protocol):
    """Where the feed step's lines go: `info` (what was fetched) and `failure` (one line each)."""

    def info(self, message: str) -> None: ...

    def failure(self, message: str) -> None: ...


TRANSCRIPT_SUFFIXES = (".json", ".vtt", ".srt", ".txt")


@dataclass
class EpisodeFailure:
    feed: str  # the feed's URL
    episode: str | None  # the episode's title; None when the feed itself failed
    reason: str

    def line(self) -> str:
        return f'{self.feed}: episode "{self.episode}": {self.reason}' if self.episode else f"{self.feed}: {self.reason}"


@dataclass
class SyncResult:
    folders: list[Path] = field(default_factory=list)  # feed folders for ingest to index
    checked: int = 0  # feeds asked for
    unchanged: int = 0  # of which answered 304 Not Modified
    downloaded: int = 0  # enclosures fetched this run
    failures: list[EpisodeFailure] = field(default_factory=list)


def limits_of(settings: Settings) -> Limits:
    feeds = settings.feeds
    return Limits(
        connect_timeout=feeds.connect_timeout,
        read_timeout=feeds.read_timeout,
        max_feed_bytes=int(feeds.max_feed_mb * 1e6),
        max_episode_bytes=int(feeds.max_episode_mb * 1e6),
        feed_deadline=feeds.feed_deadline,
        download_deadline=feeds.download_deadline,
    )


def sync_feeds(
    feeds: list[tuple[str, str | None]], settings: Settings, log: FeedLog, *, audio_seconds: Callable[[Path], float]
) -> SyncResult:
    """Fetch each (url, show name) feed and bring its new or changed episodes into the data dir.

    `audio_seconds` measures a downloaded enclosure (and raises RecordingError if it is not audio):
    a publisher's transcript must fit it. A feed or episode that fails is recorded in the result
    and the others go on; nothing already in the data dir is removed.
    """
    result = SyncResult()
    with Client(limits_of(settings)) as client:
        for url, name in feeds:
            sync = _FeedSync(url, name, settings, client, log, result, audio_seconds)
            try:
                sync.run()
            except OSError as exc:
                # No feed causes this: the data dir cannot be written (full, read-only). The run stops.
                raise storage_error(exc, sync.folder) from exc
            except HeardError:
                raise
            except Exception as exc:  # noqa: BLE001 - one feed's surprise must not skip the other feeds
                sync.feed_failed(f"{type(exc).__name__}: {exc} (heard could not handle this feed; please report it)")
    return result


class _FeedSync:
    def __init__(
        self,
        url: str,
        name: str | None,
        settings: Settings,
        client: Client,
        log: FeedLog,
        result: SyncResult,
        audio_seconds: Callable[[Path], float],
    ):
        self.url, self.name, self.settings, self.client = url, name, settings, client
        self.log, self.result, self.audio_seconds = log, result, audio_seconds
        adopt_legacy_folder(settings.data_dir, url)
        self.folder = feed_folder(settings.data_dir, url)
        # The state, like every file but feeds.yaml, holds URLs without their password (identity.public_url).
        self.state = FeedState.load(self.folder, identity.public_url(url))

    def run(self) -> None:
        self.result.checked += 1
        try:
            response = self.client.fetch_feed(self.url, etag=self.state.etag, last_modified=self.state.last_modified)
        except FeedError as exc:
            return self.feed_failed(exc.reason)
        self.state.checked_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        if response.status == 304:
            self.result.unchanged += 1
        else:
            try:
                feed = parse_feed(response.body or b"", self.url)
            except FeedError as exc:
                return self.feed_failed(exc.reason)
            self.state.title = feed.title
            merge_episodes(self.state, self.url, feed.episodes)
            self.state.etag, self.state.last_modified = response.etag, response.last_modified
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state.save(self.folder)  # before any download: a killed run resumes from here
        for record in self.state.episodes.values():
            if record.status == DONE:
                # Edited episode details or a new show name: ingest re-indexes, nothing is transcribed.
                self._write_sidecar(record)
        if self.folder not in self.result.folders:
            self.result.folders.append(self.folder)
        todo = [r for r in self.state.episodes.values() if r.status != DONE]
        if self.settings.feeds.max_episodes:
            newest = sorted(self.state.episodes.values(), key=lambda r: r.published or "", reverse=True)
            wanted = {r.key for r in newest[: self.settings.feeds.max_episodes]}
            todo = [r for r in todo if r.key in wanted]
        unchanged = "not modified (304)" if response.status == 304 else "fetched"
        self.log.info(f"[feed] {self.url}: {unchanged}; {counted(len(todo), 'episode')} to fetch")
        for record in todo:
            self._episode(record)
            self.state.save(self.folder)

    def feed_failed(self, reason: str) -> None:
        failure = EpisodeFailure(self.url, None, reason)
        self.result.failures.append(failure)
        self.log.failure(f"[feed] FAILED: {failure.line()}")
        if self.folder.is_dir() and self.folder not in self.result.folders:
            # Still index what earlier runs brought in: a feed that is down today keeps its episodes.
            self.result.folders.append(self.folder)

    def _show(self) -> str:
        return self.name or self.state.title or identity.public_url(self.url)

    def _episode(self, record: EpisodeRecord) -> None:
        try:
            self._fetch_episode(record)
        except (FeedError, RecordingError, ValueError) as exc:
            for leftover in self.folder.glob(f".{glob.escape(record.file or '-')}.*"):
                if not leftover.name.endswith(".part") and not leftover.name.endswith(".part.json"):
                    leftover.unlink(missing_ok=True)  # a checked-and-refused download; a .part resumes
            reason = exc.reason if isinstance(exc, (FeedError, RecordingError)) else str(exc)
            record.status, record.error = FAILED, reason
            failure = EpisodeFailure(self.url, record.title, reason)
            self.result.failures.append(failure)
            self.log.failure(f"[feed] FAILED: {failure.line()}")
            return
        record.status, record.error = DONE, None

    def _fetch_episode(self, record: EpisodeRecord) -> None:
        if record.file is None:
            stem = identity.episode_file_stem(_as_episode(record), record.key)
            record.file = stem + identity.audio_suffix(record.enclosure_url, record.enclosure_type)
        audio = self.folder / record.file
        _inside(audio, self.settings.data_dir)
        # The complete download waits under a hidden name until its transcript is checked.
        staged = audio.with_name(f".{audio.name}.download")
        self.client.download(self._authorized(record.enclosure_url), staged)
        self.result.downloaded += 1
        seconds = self.audio_seconds(staged)
        transcript = self._transcript(record, seconds)
        chapters = self._chapters(record)
        self._write_sidecar(record, chapters)
        for suffix in TRANSCRIPT_SUFFIXES:
            other = audio.with_suffix(suffix)
            if transcript is None or other.name != transcript.name:
                other.unlink(missing_ok=True)  # an earlier version's transcript must not outlive it
        if transcript is not None:
            os.replace(self.folder / f".{transcript.name}.check", transcript)
        os.replace(staged, audio)
        record.holds, record.holds_length = identity.without_query(record.enclosure_url), record.enclosure_length
        self.log.info(
            f'[feed] {self.url}: episode "{record.title}": downloaded {"with its transcript" if transcript else "for Whisper"}'
        )

    def _transcript(self, record: EpisodeRecord, seconds: float) -> Path | None:
        """Where the publisher's timed transcript goes, once fetched into a hidden file and checked
        against the audio; None to let Whisper transcribe: there is none, or it is over the size cap
        or does not fit the audio (times, cue count). A malformed one fails the episode (RecordingError)."""
        if not record.transcript or not self.settings.feeds.publisher_transcripts:
            return None
        url, kind = record.transcript
        final = (self.folder / (record.file or "")).with_suffix("." + kind)
        checked = self.folder / f".{final.name}.check"
        try:
            write_bytes_atomically(checked, self.client.fetch_file(self._authorized(url)))
        except FileTooBig:
            cap = self.client.limits.max_file_bytes / 1e6
            self._to_whisper(record, f"the publisher's transcript {url} is over {cap:.0f} MB")
            return None
        try:
            transcript = read_publisher_transcript(checked, kind)
        except ImplausibleTranscript as exc:  # too many cues for its own times, so for the audio too
            problem: str | None = published.fits_audio(seconds, seconds, cues=exc.cues) or exc.reason
        except RecordingError as exc:
            raise RecordingError(checked, f"the publisher's transcript {url}: {exc.reason}") from None
        else:
            problem = published.fits_audio(transcript.duration, seconds, cues=importers.cue_count(transcript.segments))
        if problem:
            checked.unlink(missing_ok=True)
            self._to_whisper(record, f"the publisher's transcript {url} does not fit the audio ({problem})")
            return None
        return final

    def _authorized(self, url: str) -> str:
        """A URL the state keeps (without password), with the feed's credentials when on its server."""
        return identity.with_credentials(url, self.url)

    def _to_whisper(self, record: EpisodeRecord, why: str) -> None:
        self.log.info(f'[feed] {self.url}: episode "{record.title}": {why}; Whisper transcribes the episode')

    def _chapters(self, record: EpisodeRecord) -> list[published.Chapter]:
        if not record.chapters_url:
            return []
        try:
            return published.read_chapters(self.client.fetch_file(self._authorized(record.chapters_url)))
        except (FeedError, ValueError) as exc:
            # Chapters are a nicety: the episode is indexed without them.
            self.log.info(f'[feed] {self.url}: episode "{record.title}": chapters not used ({exc})')
            return []

    def _write_sidecar(self, record: EpisodeRecord, chapters: list[published.Chapter] | None = None) -> None:
        import yaml

        if record.file is None:
            return
        path = (self.folder / record.file).with_suffix(".yaml")
        fields = _sidecar_fields(record, self._show())
        if chapters is None and path.is_file():  # a metadata refresh keeps the chapters fetched before
            try:
                fields["chapters"] = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("chapters")
            except (OSError, yaml.YAMLError):
                pass
        elif chapters:
            fields["chapters"] = [{"start": c.start, "title": c.title} for c in chapters]
        text = yaml.safe_dump({k: v for k, v in fields.items() if v not in (None, [], "")}, sort_keys=False, allow_unicode=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_text_atomically(path, text)


def read_publisher_transcript(path: Path, kind: str) -> Transcript:
    """A publisher's transcript (kind: json, vtt or srt), read exactly as ingest will import it;
    RecordingError with the line or segment at fault if it cannot be read."""
    copy = path.with_name(path.name + "." + kind)  # the importers go by suffix
    os.replace(path, copy)
    try:
        return importers.import_transcript(copy, recording_id="check", sha256="", source=copy, title="")
    finally:
        os.replace(copy, path)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    from pipeline.files import atomic_path

    with atomic_path(path) as staging:
        staging.write_bytes(data)


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def storage_error(exc: OSError, folder: Path) -> StorageError:
    """One line naming the file that could not be written and what to do (exit 2)."""
    where = exc.filename or folder
    if exc.errno in FULL_ERRNOS:
        return StorageError(f"{where}: cannot write ({exc.strerror}); free disk space and rerun")
    return StorageError(f"{where}: cannot write ({exc.strerror or exc}); check the folder's permissions")


def _inside(path: Path, data_dir: Path) -> None:
    """Belt and braces: names come from heard, never from the feed, but a write outside the data
    dir must be impossible whatever a name turns out to be."""
    if not path.resolve().is_relative_to(data_dir.resolve()):
        raise HeardError(f"{path}: outside the data dir {data_dir}; refusing to write it")


def _sidecar_fields(record: EpisodeRecord, show: str) -> JsonObject:
    number = record.number
    return {
        "title": record.title,
        "date": record.published,
        "kind": "podcast",
        "show": show,
        "link": record.link,
        "season": record.season,
        "episode": int(number) if number is not None and number == int(number) else number,
        "speakers": record.speakers,
    }


def _as_episode(record: EpisodeRecord) -> Episode:
    published_at = None
    if record.published:
        published_at = datetime.datetime.fromisoformat(record.published).replace(tzinfo=datetime.timezone.utc)
    return Episode(guid=record.guid, title=record.title, published=published_at)
