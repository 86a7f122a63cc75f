"""HTTP for feeds: conditional GETs of feeds, small files (transcripts, chapters), and enclosure
downloads that resume, stay under a size cap and land atomically.

httpx rather than urllib (scripts/compare_http_clients.py): urllib's redirect handler followed a
302 to ftp:// (it allows http, https and ftp); httpx has separate connect and read timeouts and
reuses connections. Redirects are followed here, one hop at a time, so each target's scheme is
checked: only http and https, at most MAX_REDIRECTS hops.

Every fetch also has a total deadline (feeds.feed_deadline for a feed and its small files,
feeds.download_deadline for an enclosure): read_timeout bounds the gap between two bytes, so a
server that sends one byte every few seconds would otherwise hold a nightly run, and its lock,
forever. At the deadline a timer shuts the connection's socket down (deadline.py), which ends a
blocked read whether the server trickles headers or body.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from pipeline import __version__
from pipeline.sources.feeds import identity
from pipeline.sources.feeds.deadline import Deadline
from pipeline.sources.feeds.parse import FeedError

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 10
USER_AGENT = f"heard/{__version__} (podcast indexer)"
# An enclosure served as one of these is a web page or an error document, not a recording.
NOT_AUDIO_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/rss", "application/atom")


@dataclass
class Limits:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # seconds without a byte before giving up
    max_feed_bytes: int = 50 << 20
    max_file_bytes: int = 5 << 20  # transcripts, chapters
    max_episode_bytes: int = 2 << 30
    feed_deadline: float = 120.0  # seconds for a feed's XML (or a transcript, chapters), in all
    download_deadline: float = 3600.0  # seconds for one enclosure, in all


@dataclass
class FeedResponse:
    status: int  # 200, or 304 when unchanged since `etag` / `last_modified`
    body: bytes | None
    etag: str | None
    last_modified: str | None
    url: str  # after redirects


@dataclass
class Download:
    path: Path
    size: int
    content_type: str | None
    resumed_from: int  # bytes kept from an earlier, interrupted run


def check_url(url: str) -> str:
    """The URL if it is http(s), else FeedError (ingest treats any http(s) argument as a feed)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise FeedError(url, "only http:// and https:// URLs are fetched")
    return url


class Client:
    """One connection pool for a run; close() when done (or use as a context manager)."""

    def __init__(self, limits: Limits | None = None):
        import httpx

        self.limits = limits or Limits()
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        # trust_env: proxies from HTTPS_PROXY etc. as users expect; redirects are ours (see module doc).
        # No kept-alive connections: the deadline's timer must know the socket of every request, and
        # only a new connection tells it (a feed run talks to each host a few times at most).
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _get(self, url: str, deadline: Deadline, headers: dict[str, str] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET after following http(s) redirects, all within `deadline`; network faults
        become FeedError."""
        import httpx

        with deadline:
            try:
                with self._follow(url, deadline, headers or {}) as response:
                    yield response
                if deadline.expired:
                    # A body without a length ends when the connection closes: the deadline's shutdown
                    # looks like its end. Cut short is not complete.
                    raise deadline.error(url)
            except httpx.HTTPError as exc:
                if deadline.expired:
                    raise deadline.error(url) from None
                if isinstance(exc, httpx.TimeoutException):
                    raise FeedError(url, f"stalled: no data for {self.limits.read_timeout:.0f} s") from None
                raise FeedError(url, f"the transfer broke off ({_reason(exc)})") from None
            except FeedError:
                if deadline.expired:
                    raise deadline.error(url) from None
                raise

    @contextlib.contextmanager
    def _follow(self, url: str, deadline: Deadline, headers: dict[str, str]) -> Iterator[httpx.Response]:
        import httpx

        current = check_url(url)
        extensions = {"trace": deadline.trace}
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                request = self._http.build_request("GET", current, headers=headers, extensions=extensions)
                response = self._http.send(request, stream=True)
            except httpx.TimeoutException:
                if deadline.expired:
                    raise deadline.error(url) from None
                raise FeedError(
                    url,
                    f"timed out (no answer within {self.limits.connect_timeout:.0f} s to connect "
                    f"or {self.limits.read_timeout:.0f} s to read); is the server up?",
                ) from None
            except httpx.HTTPError as exc:
                if deadline.expired:
                    raise deadline.error(url) from None
                raise FeedError(url, f"cannot connect ({_reason(exc)}); check the URL and the network") from None
            if not response.has_redirect_location:
                break
            location = response.headers.get("location", "")
            response.close()
            target = urljoin(current, location)
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise FeedError(url, f"redirected to '{target[:80]}'; heard follows redirects to http(s) only")
            current = target
        else:
            raise FeedError(url, f"more than {MAX_REDIRECTS} redirects; check the URL")
        try:
            yield response
        finally:
            response.close()

    def _feed_deadline(self) -> Deadline:
        return Deadline(self.limits.feed_deadline, "feeds.feed_deadline", "the server is too slow or keeps the connection open")

    def fetch_feed(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResponse:
        """The feed's bytes, or status 304 (no body) when the server says it has not changed."""
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._get(url, self._feed_deadline(), headers) as response:
            if response.status_code == 304:
                return FeedResponse(304, None, etag, last_modified, str(response.url))
            _check_status(url, response)
            body = _read_capped(url, response, self.limits.max_feed_bytes, "feed")
            return FeedResponse(200, body, response.headers.get("etag"), response.headers.get("last-modified"), str(response.url))

    def fetch_file(self, url: str) -> bytes:
        """A small file (a transcript, chapters), whole."""
        with self._get(url, self._feed_deadline()) as response:
            _check_status(url, response)
            return _read_capped(url, response, self.limits.max_file_bytes, "file")

    def download(self, url: str, target: Path) -> Download:
        """The enclosure at `target`, written to a hidden .part file first and renamed when complete.

        A .part file left by an interrupted run is resumed with a Range request, when the server
        validates it (If-Range with the ETag or Last-Modified it gave); otherwise it starts over, and
        a failed download the server could not resume leaves no .part file behind.
        """
        part = target.with_name(f".{target.name}.part")
        state_file = target.with_name(f".{target.name}.part.json")
        kept, validator = _resumable(part, state_file, url)
        # identity: Range counts bytes of the file itself, not of a compressed stream.
        headers = {"Accept-Encoding": "identity"}
        if kept and validator:
            headers.update({"Range": f"bytes={kept}-", "If-Range": validator})
        deadline = Deadline(self.limits.download_deadline, "feeds.download_deadline", "the next run resumes the download")
        receiving = _Receiving(part, state_file)
        try:
            with self._get(url, deadline, headers) as response:
                if response.status_code == 416 and kept:  # nothing left to send: what we have is all of it
                    receiving.discard()
                    raise FeedError(url, "the server refused to resume the download; the next run starts over")
                _check_status(url, response)
                resumed = response.status_code == 206 and _range_start(response) == kept
                content_type = self._check_enclosure(url, response, kept if resumed else 0)
                receiving.resumable = bool(response.headers.get("etag") or response.headers.get("last-modified"))
                if not receiving.resumable:
                    deadline.hint = "the server cannot resume a download, so the next run starts it over"
                size = self._receive(url, response, receiving, resumed=resumed, kept=kept)
        except BaseException:
            # What was written stays only if the next run can resume it (the server gave a
            # validator); else it would only hold the space and be fetched again anyway.
            if receiving.started and not receiving.resumable:
                receiving.discard()
            raise
        os.chmod(part, 0o644)
        os.replace(part, target)
        state_file.unlink(missing_ok=True)
        return Download(target, size, content_type, kept if resumed else 0)

    def _receive(self, url: str, response: httpx.Response, receiving: _Receiving, *, resumed: bool, kept: int) -> int:
        """The body into the .part file (appended when resumed); its size in all."""
        part, state_file = receiving.part, receiving.state_file
        part.parent.mkdir(parents=True, exist_ok=True)
        receiving.started = True
        if not resumed:
            validator = response.headers.get("etag") or response.headers.get("last-modified")
            state = {"url": identity.public_url(url), "validator": validator}
            state_file.write_text(json.dumps(state), encoding="utf-8")
        try:
            return _write_body(response, part, append=resumed, start=kept if resumed else 0, cap=self.limits.max_episode_bytes)
        except OSError as exc:  # a full disk: the one line names the file
            raise OSError(exc.errno, exc.strerror, str(part)) from exc
        except _TooBig:
            receiving.discard()
            raise FeedError(
                url,
                f"the enclosure grew past feeds.max_episode_mb "
                f"({self.limits.max_episode_bytes / 1e6:.0f} MB); raise it to fetch this episode",
            ) from None

    def _check_enclosure(self, url: str, response: httpx.Response, kept: int) -> str | None:
        """The enclosure's MIME type; FeedError when it is a page or a document, or over the size cap."""
        content_type = (response.headers.get("content-type") or "").split(";")[0].strip().lower() or None
        if content_type and content_type.startswith(NOT_AUDIO_TYPES):
            raise FeedError(
                url, f"the enclosure is not audio (the server sent {content_type}); check the episode's enclosure URL"
            )
        total = kept + int(response.headers.get("content-length") or 0)
        if total > self.limits.max_episode_bytes:
            raise FeedError(
                url,
                f"the enclosure is {total / 1e6:.0f} MB, over feeds.max_episode_mb "
                f"({self.limits.max_episode_bytes / 1e6:.0f} MB); raise it to fetch this episode",
            )
        return content_type


class _TooBig(Exception):
    pass


@dataclass
class _Receiving:
    """A download's hidden files, and whether a failed one may stay for the next run to resume."""

    part: Path
    state_file: Path
    started: bool = False
    resumable: bool = False

    def discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)


class FileTooBig(FeedError):
    """A feed or a small file over its size cap."""


def _write_body(response: httpx.Response, part: Path, *, append: bool, start: int, cap: int) -> int:
    """Stream the body into `part`; bytes written before a broken transfer stay there for resuming."""
    size = start
    with open(part, "ab" if append else "wb") as handle:
        # iter_raw yields bytes as they arrive: a chunk size would hold back the last ones when the
        # connection breaks, and those are what the next run resumes after.
        for block in response.iter_raw():
            size += len(block)
            if size > cap:
                raise _TooBig
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    return size


def _resumable(part: Path, state_file: Path, url: str) -> tuple[int, str | None]:
    """Bytes of an interrupted download of the same URL, and the validator to resume it with."""
    if not part.is_file():
        return 0, None
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0, None
    if _without_query(state.get("url", "")) != _without_query(identity.public_url(url)):
        return 0, None
    return part.stat().st_size, state.get("validator")


def _without_query(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _range_start(response: httpx.Response) -> int | None:
    """The first byte a 206 answer holds, from 'Content-Range: bytes 1000-1999/2000'."""
    value = response.headers.get("content-range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FeedError(url, f"the server answered HTTP {response.status_code} {response.reason_phrase}".rstrip())
    if response.status_code not in (200, 203, 206):
        raise FeedError(url, f"unexpected HTTP {response.status_code} {response.reason_phrase}".rstrip())


def _read_capped(url: str, response: httpx.Response, cap: int, what: str) -> bytes:
    if int(response.headers.get("content-length") or 0) > cap:
        raise FileTooBig(url, f"the {what} is over {cap / 1e6:.0f} MB; is the URL right?")
    blocks, size = [], 0
    for block in response.iter_bytes(1 << 16):
        size += len(block)
        if size > cap:
            raise FileTooBig(url, f"the {what} is over {cap / 1e6:.0f} MB; is the URL right?")
        blocks.append(block)
    return b"".join(blocks)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
