"""Serve the example interviews as a podcast feed on http://127.0.0.1:8800/feed.xml, to try
`heard ingest URL` and `heard feeds add URL` without the internet (docs/feeds.md).

    python scripts/example_feed.py [--port 8800]

Episode 1 comes with a Podcasting 2.0 JSON transcript, podcast:person tags and chapters, episode
2 with a WebVTT transcript, episode 3 with none (Whisper transcribes it). The files are written
to build/example-feed/ and served by Python's http.server (Last-Modified and If-Modified-Since, so a
second ingest costs one 304). Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "example-feed"
NAMES = {"interviewer": "Dana Whitfield", "customer": None}  # the guest is named per episode
EPISODES = [
    # file, title, guest, transcript format, date
    ("acme-export.mp3", "Exporting data for the board", "Priya Shah", "json", "Tue, 03 Mar 2026 06:00:00 GMT"),
    ("brightside-onboarding.m4a", "Onboarding a new team", "Marcus Lee", "vtt", "Tue, 24 Feb 2026 06:00:00 GMT"),
    ("northwind-pricing.ogg", "Paying for seats as the team grows", "Ana Ruiz", None, "Tue, 17 Feb 2026 06:00:00 GMT"),
]
TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a", ".ogg": "audio/ogg"}


def speaker(turn: dict, guest: str) -> str:
    return NAMES["interviewer"] if turn["speaker"] == "interviewer" else guest


def json_transcript(turns: list[dict], guest: str) -> str:
    """One entry per word, times spread evenly over its turn (the turns' times are the true ones)."""
    segments = []
    for turn in turns:
        words = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(words)
        for i, word in enumerate(words):
            segments.append({"speaker": speaker(turn, guest), "startTime": round(turn["start"] + i * step, 3),
                             "endTime": round(turn["start"] + (i + 1) * step, 3), "body": word})
    return json.dumps({"version": "1.0.0", "segments": segments})


def vtt_transcript(turns: list[dict], guest: str) -> str:
    def stamp(seconds: float) -> str:
        return f"00:{int(seconds // 60):02d}:{seconds % 60:06.3f}"

    return "WEBVTT\n\n" + "\n\n".join(
        f"{stamp(t['start'])} --> {stamp(t['end'])}\n<v {speaker(t, guest)}>{t['text']}" for t in turns) + "\n"


def build(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    items = []
    for number, (name, title, guest, transcript, date) in enumerate(EPISODES, 1):
        shutil.copyfile(REPO / "examples" / name, OUT / name)
        turns = json.loads((REPO / "tests" / "data" / f"{Path(name).stem}.turns.json").read_text())["turns"]
        parts = [f"<title>{escape(title)}</title>", f"<guid isPermaLink=\"false\">example-{number}</guid>",
                 f"<link>{base}/episodes/{number}</link>", f"<pubDate>{date}</pubDate>",
                 f'<enclosure url="{base}/{name}?source=feed" type="{TYPES[Path(name).suffix]}" '
                 f'length="{(OUT / name).stat().st_size}"/>',
                 f"<itunes:season>1</itunes:season><itunes:episode>{number}</itunes:episode>",
                 f'<podcast:person role="host">{NAMES["interviewer"]}</podcast:person>',
                 f'<podcast:person role="guest">{guest}</podcast:person>']
        if transcript == "json":
            (OUT / f"{number}.json").write_text(json_transcript(turns, guest))
            parts.append(f'<podcast:transcript url="{base}/{number}.json" type="application/json"/>')
            (OUT / f"{number}.chapters.json").write_text(json.dumps({"version": "1.2.0", "chapters": [
                {"startTime": 0, "title": "The quarterly export"}, {"startTime": 14, "title": "Workarounds"},
                {"startTime": 30, "title": "What would help"}]}))
            parts.append(f'<podcast:chapters url="{base}/{number}.chapters.json" type="application/json+chapters"/>')
        elif transcript == "vtt":
            (OUT / f"{number}.vtt").write_text(vtt_transcript(turns, guest))
            parts.append(f'<podcast:transcript url="{base}/{number}.vtt" type="text/vtt"/>')
        items.append("    <item>" + "".join(parts) + "</item>")
    (OUT / "feed.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0">\n  <channel>\n'
        f"    <title>Customer Voices</title>\n    <link>{base}/</link>\n" + "\n".join(items) + "\n  </channel>\n</rss>\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8800)
    port = parser.parse_args().port
    base = f"http://127.0.0.1:{port}"
    build(base)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(OUT))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving {base}/feed.xml from {OUT} (Ctrl+C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
