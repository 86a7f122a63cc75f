"""What each feed parser keeps of a podcast feed: feedparser, podcastparser, lxml and the stdlib's
ElementTree (heard's reader, pipeline/sources/feeds/parse.py), scored field by field against
hand-written expectations (tests/data/feeds/expected.json), plus parse time on a large feed.

    pip install feedparser podcastparser lxml   # not dependencies of heard; only for this comparison
    python scripts/compare_feed_parsers.py

A parser that is not installed is skipped. Timings are medians of interleaved rounds, reported as
ratios to ElementTree in the same run (the machine is shared).

    python scripts/compare_feed_parsers.py --held-out DIR

reads feeds nobody here wrote instead: every NAME.rss in DIR with its NAME.json expectation in
podcastparser's format (its repository's tests/data/; cases with a NAME.param.json are skipped),
counting feeds read without an error and episodes whose title and enclosure URL match.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.sources.feeds import parse as heard_parse  # noqa: E402
from pipeline.sources.feeds import values as heard_values  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "feeds"
FIELDS = ("guid", "title", "link", "enclosure", "type", "published", "duration", "season", "episode",
          "transcripts", "persons", "chapters")


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.timezone.utc).isoformat() if moment else None


def _episode_dict(episode: heard_parse.Episode) -> dict:
    return {
        "guid": episode.guid, "title": episode.title, "link": episode.link, "enclosure": episode.enclosure_url,
        "type": episode.enclosure_type, "published": _iso(episode.published), "duration": episode.duration,
        "season": episode.season, "episode": episode.number,
        "transcripts": [[t.url, t.type] for t in episode.transcripts],
        "persons": [[p.name, p.role] for p in episode.persons], "chapters": episode.chapters_url,
    }


def with_elementtree(data: bytes, url: str) -> dict:
    feed = heard_parse.parse_feed(data, url)
    return {"feed": {"title": feed.title, "link": feed.link}, "episodes": [_episode_dict(e) for e in feed.episodes]}


def with_lxml(data: bytes, url: str) -> dict:
    """heard's extraction over lxml's recovering parser instead of expat."""
    from lxml import etree

    def parse_xml(text: str, _url: str, *, namespaces: bool = True):
        # heard hands the parser decoded text (decode.py); lxml wants bytes without a declaration's say.
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, encoding="utf-8")
        root = etree.fromstring(text.lstrip("\ufeff \t\r\n").encode("utf-8"), parser)
        if root is None:
            raise heard_parse.FeedError(_url, "lxml recovered nothing")
        return root

    with mock.patch.object(heard_parse, "_parse_xml", parse_xml):
        return with_elementtree(data, url)


def with_feedparser(data: bytes, url: str) -> dict:
    import feedparser

    parsed = feedparser.parse(data, response_headers={"content-location": url, "content-type": "application/rss+xml"})
    if not parsed.entries and parsed.bozo:
        raise ValueError(parsed.bozo_exception)
    episodes = []
    for entry in parsed.entries:
        enclosure = (entry.get("enclosures") or [{}])[0]
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        by_suffix = {suffix: next((v for k, v in entry.items() if k.endswith(suffix)), None)
                     for suffix in ("_transcript", "_person", "_chapters")}
        transcripts = by_suffix["_transcript"]
        transcripts = transcripts if isinstance(transcripts, list) else [transcripts] if transcripts else []
        person = by_suffix["_person"]
        persons = [[person, "host"]] if isinstance(person, str) else [[person.get("name"), person.get("role")]] if person else []
        episodes.append({
            "guid": entry.get("id"), "title": entry.get("title"), "link": entry.get("link"),
            "enclosure": enclosure.get("href"), "type": enclosure.get("type") or None,
            "published": datetime.datetime(*published[:6], tzinfo=datetime.timezone.utc).isoformat() if published else None,
            "duration": heard_values.duration(entry.get("itunes_duration")),
            "season": int(entry["itunes_season"]) if entry.get("itunes_season") else None,
            "episode": float(entry["itunes_episode"]) if entry.get("itunes_episode") else None,
            "transcripts": [[t.get("url"), t.get("type")] for t in transcripts],
            "persons": persons,
            "chapters": (by_suffix["_chapters"] or {}).get("url"),
        })
    return {"feed": {"title": parsed.feed.get("title"), "link": parsed.feed.get("link")}, "episodes": episodes}


def with_podcastparser(data: bytes, url: str) -> dict:
    import podcastparser

    parsed = podcastparser.parse(url, io.BytesIO(data))
    episodes = []
    for entry in parsed.get("episodes", []):
        enclosure = (entry.get("enclosures") or [{}])[0]
        episodes.append({
            "guid": entry.get("guid"), "title": entry.get("title"), "link": entry.get("link") or None,
            "enclosure": enclosure.get("url"), "type": enclosure.get("mime_type") or None,
            "published": datetime.datetime.fromtimestamp(entry["published"], datetime.timezone.utc).isoformat()
            if entry.get("published") else None,
            "duration": entry.get("total_time") or None, "season": entry.get("season"), "episode": entry.get("number"),
            "transcripts": [[entry["transcript_url"], None]] if entry.get("transcript_url") else [],
            "persons": [[p.get("name"), p.get("role", "host")] for p in entry.get("persons", [])],
            "chapters": entry.get("chapters_json_url"),
        })
    return {"feed": {"title": parsed.get("title"), "link": parsed.get("link")}, "episodes": episodes}


PARSERS = {"ElementTree (heard)": with_elementtree, "lxml": with_lxml, "feedparser": with_feedparser,
           "podcastparser": with_podcastparser}


def _same(got, want) -> bool:
    if want == "*":
        return True
    if isinstance(want, str) and isinstance(got, str):
        def norm(s: str) -> str:
            return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip().rstrip("?")
        return norm(got) == norm(want)
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return float(got) == float(want)
    return got == want


def _empty(value) -> bool:
    return value in (None, "", [], {})


def score(result: dict | None, expected: dict) -> dict[str, list[int]]:
    """field -> [kept, expected, wrong] for one sample: `kept` of the `expected` facts (non-empty
    values) came out right; `wrong` values came out that the feed does not say (garbled or made up)."""
    tally: dict[str, list[int]] = {}

    def count(key: str, got, want) -> None:
        cell = tally.setdefault(key, [0, 0, 0])
        if want == "*":
            return
        if not _empty(want):
            cell[1] += 1
            cell[0] += _same(got, want)
        if not _empty(got) and not _same(got, want):
            cell[2] += 1

    for key in ("title", "link"):
        count(f"show {key}", result["feed"].get(key) if result else None, expected["feed"][key])
    episodes = result["episodes"] if result else []
    for i, want in enumerate(expected["episodes"]):
        got = episodes[i] if i < len(episodes) else {}
        for key in FIELDS:
            count(key, got.get(key), want[key])
    return tally


def big_feed(items: int = 3000) -> bytes:
    one = (SAMPLES / "podcast20.xml").read_text()
    head, rest = one.split("<item>", 1)
    item = "<item>" + rest.split("</item>", 1)[0] + "</item>"
    body = "".join(item.replace("ep-12-abc", f"ep-{n}") for n in range(items))
    return (head + body + "</channel></rss>").encode()


def held_out(folder: Path) -> None:
    rows = {name: [0, 0, 0, 0] for name in PARSERS}  # feeds read, feeds, episodes matched, episodes expected
    for path in sorted(folder.glob("*.rss")):
        expected_path = path.with_suffix(".json")
        if not expected_path.is_file() or path.with_suffix(".param.json").is_file():
            continue
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        wanted = [(e.get("title"), (e.get("enclosures") or [{}])[0].get("url")) for e in expected.get("episodes", [])]
        for name, parse in PARSERS.items():
            row = rows[name]
            row[1] += 1
            row[3] += len(wanted)
            try:
                got = parse(path.read_bytes(), "http://example.com/feed.xml")
            except Exception:  # noqa: BLE001 - a parser's failure is a measured outcome
                continue
            row[0] += 1
            have = [(e["title"], e["enclosure"]) for e in got["episodes"]]
            row[2] += sum(1 for w in wanted if w in have)
    print("| parser | feeds read | episodes matching |\n|---|---|---|")
    for name, (read, feeds, matched, episodes) in rows.items():
        print(f"| {name} | {read}/{feeds} | {matched}/{episodes} |")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--held-out":
        return held_out(Path(sys.argv[2]))
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    expected["podcast20-github-ns.xml"] = expected["podcast20.xml"]
    available = {}
    for name, parse in PARSERS.items():
        try:
            parse((SAMPLES / "atom.xml").read_bytes(), "https://atom.example.org/feed.atom")
            available[name] = parse
        except ImportError:
            print(f"{name}: not installed, skipped")
    by_field: dict[str, dict[str, list[int]]] = {}
    by_sample: dict[str, dict[str, list[int]]] = {}
    for sample, want in sorted(expected.items()):
        data = (SAMPLES / sample).read_bytes()
        for name, parse in available.items():
            try:
                result = parse(data, want["url"])
                error = None
            except Exception as exc:  # noqa: BLE001 - a parser's failure is a measured outcome
                result, error = None, f"{type(exc).__name__}: {str(exc)[:90]}"
            if error:
                print(f"{sample} / {name}: failed ({error})")
            for key, cell in score(result, want).items():
                for table, row in ((by_field, key), (by_sample, sample)):
                    total = table.setdefault(row, {}).setdefault(name, [0, 0, 0])
                    for i in range(3):
                        total[i] += cell[i]
    names = list(available)
    print("\nfacts kept of those the feeds hold (wrong values in brackets)")
    print("\n| field | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for table in (by_field, by_sample):
        for key, cells in table.items():
            key = key if table is by_field else f"*{key}*"
            print(f"| {key} | " + " | ".join(
                f"{cells[n][0]}/{cells[n][1]}" + (f" ({cells[n][2]} wrong)" if cells[n][2] else "") for n in names) + " |")
    totals = {n: [sum(by_sample[s][n][i] for s in by_sample) for i in range(3)] for n in names}
    print("| **all** | " + " | ".join(
        f"**{totals[n][0]}/{totals[n][1]}**" + (f" ({totals[n][2]} wrong)" if totals[n][2] else "") for n in names) + " |")

    data = big_feed()
    times: dict[str, list[float]] = {n: [] for n in names}
    for _round in range(5):
        for name in names:
            started = time.perf_counter()
            available[name](data, "https://example.com/feed.xml")
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times[names[0]])
    print(f"\nparse time, {len(data) / 1e6:.1f} MB feed with 3000 episodes, median of 5 interleaved rounds:")
    for name in names:
        median = statistics.median(times[name])
        print(f"  {name}: {median * 1000:.0f} ms ({median / base:.1f}x {names[0]})")


if __name__ == "__main__":
    main()
