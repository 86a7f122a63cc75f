"""heard's command line: parse, call one library function, print. Library code lives in pipeline/."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pipeline import __version__
from pipeline.answering.options import ASK, JUDGE
from pipeline.config import MAX_K
from pipeline.errors import HeardError
from pipeline.evidence import options as evidence_options
from pipeline.finding.options import SEARCH, THEMES
from pipeline.indexing.role_names import ROLES
from pipeline.jobs.options import INGEST_SETTINGS
from pipeline.messages import counted, safe
from pipeline.options import Option, parse_all

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.finding.eval import AllReport
    from pipeline.indexing.identities import VoiceListing
    from pipeline.jobs.identities import VoiceChange
    from pipeline.jobs.progress import Reporter

F = TypeVar("F", bound=Callable[..., Any])
# The writers of pipeline/finding/formats (kept here as names: importing the writers costs --help time).
HIT_FORMATS = ("table", "json", "md", "csv")


class HeardClickError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Library errors become one-line messages with the design's exit codes."""
    try:
        yield
    except HeardError as exc:
        raise HeardClickError(str(exc), exc.exit_code) from exc


def _settings(ctx: click.Context) -> Settings:
    from pipeline.config import load_settings

    with user_errors():
        return load_settings(ctx.obj["config"], ctx.obj["data_dir"])


def declared(options: Sequence[Option]) -> Callable[[F], F]:
    """The click argument and options of `options` (pipeline/options.py declarations). Click only
    splits the command line: every value is parsed by `parsed`, as the page and the API parse theirs."""

    def decorate(command: F) -> F:
        for option in reversed([o for o in options if o.cli]):
            if option.argument:
                command = click.argument(option.key, required=False, metavar=option.name.upper())(command)
                continue
            spellings = option.flags or (f"--{option.name}",)
            if option.kind == "flag":
                command = click.option(*spellings, option.key, is_flag=True, help=option.help_text())(command)
            else:
                metavar = option.metavar or ("|".join(option.rule.choices) if option.choices else "TEXT")
                command = click.option(
                    *spellings, option.key, multiple=option.multiple, metavar=metavar, help=option.help_text()
                )(command)
        return command

    return decorate


def parsed(options: Sequence[Option], given: dict[str, Any]) -> dict[str, Any]:
    """The values of `options` from what click collected (removed from `given`): one OptionError, with
    every refused value's message, the same words the page and the API use."""
    from pipeline.options import OptionError

    raw: dict[str, list[str]] = {}
    for option in options:
        if not option.cli:
            continue
        value = given.pop(option.key, None)
        if option.kind == "flag":
            raw[option.url_name] = ["1"] if value else []
        elif option.multiple:
            raw[option.url_name] = [str(v) for v in value or ()]
        else:
            raw[option.url_name] = [] if value is None else [str(value)]
    values, errors = parse_all(options, raw)
    if errors:
        raise OptionError("; ".join(errors))
    return values


def format_option(choices: Sequence[str], default: str, help: str | None = None) -> Callable[[F], F]:
    """--format, the same option on every command that prints results."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help=help or "How to print the results.",
    )


SUMMARY_FORMAT = format_option(("text", "json"), "text", "json: print one JSON summary object as the last line of output.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="HEARD_CONFIG",
    help="Settings file [env HEARD_CONFIG; default: ./config.yaml if present, else built-in defaults].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="HEARD_DATA_DIR",
    help="Folder holding transcripts/ and the index [env HEARD_DATA_DIR].",
)
@click.version_option(__version__, prog_name="heard")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, data_dir: str | None) -> None:
    """Turn recorded interviews into a searchable knowledge base of timestamped quotes."""
    from pipeline import threads

    threads.wait_passively()  # before any command loads Whisper, torch or a BLAS library (pipeline/threads.py)
    ctx.obj = {"config": config_file, "data_dir": data_dir}


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--feeds",
    "subscribed",
    is_flag=True,
    help="Fetch every subscribed feed (heard feeds add) and index its new episodes, before PATHS.",
)
@SUMMARY_FORMAT
@click.option(
    "--retranscribe",
    is_flag=True,
    help="Transcribe again recordings whose transcripts were made with other transcription settings.",
)
@click.option("--keep-missing", is_flag=True, help="Keep the chunks of recordings whose files are gone (default: remove them).")
@click.option("--prune", is_flag=True, help="Also delete the transcripts of recordings whose files are gone.")
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Let a folder that holds no recordings any more remove what was indexed from it (default: "
    "nothing is removed then, as when a network share is not mounted).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Retry recordings that failed before, now, even if unchanged (default: when the file "
    "changes or ingest.retry_failed_after_hours have passed).",
)
@click.option("-q", "--quiet", is_flag=True, help="Report failures only.")
@declared(INGEST_SETTINGS)
@click.pass_context
def ingest(
    ctx: click.Context,
    /,
    paths: tuple[str, ...],
    subscribed: bool,
    output_format: str,
    retranscribe: bool,
    keep_missing: bool,
    prune: bool,
    allow_empty: bool,
    retry_failed: bool,
    quiet: bool,
    **given: Any,
) -> None:
    """Transcribe and index the recordings under PATHS (folders are searched recursively).

    A PATH that is an http(s) URL is a podcast feed: its new episodes are downloaded into the data
    dir and indexed, with the publisher's timed transcript instead of Whisper when there is one.

    Recordings that are unchanged cost a stat; moved ones no work; changed ones are re-transcribed;
    deleted ones leave the index. Safe to kill and rerun; one ingest per data dir at a time.

    Exit codes: 0 all indexed, 1 some recordings failed (the others were indexed), 2 usage, config
    or disk error, 3 another ingest or reindex holds the data dir's lock.
    """
    from pipeline.jobs.ingest import ingest as run_ingest
    from pipeline.options import apply_settings
    from pipeline.sources.feeds.subscriptions import feeds_and_paths

    settings = _settings(ctx)
    with user_errors():
        apply_settings(INGEST_SETTINGS, parsed(INGEST_SETTINGS, given), settings)
        feeds, folders = feeds_and_paths(list(paths), settings.data_dir, subscribed=subscribed)
    with _reporter(quiet) as reporter, user_errors():
        summary = run_ingest(
            folders,
            settings,
            reporter=reporter,
            retranscribe=retranscribe,
            keep_missing=keep_missing,
            prune=prune,
            retry_failed=retry_failed,
            allow_empty=allow_empty,
            feeds=feeds,
        )
    if output_format == "json":
        click.echo(json.dumps(summary.to_dict()))
    else:
        updated = f", {summary.updated} updated" if summary.updated else ""
        moved = f" ({summary.moved} moved)" if summary.moved else ""
        click.echo(
            f"{summary.new} new{updated}, {summary.unchanged} unchanged{moved}, {summary.failed} failed, "
            f"{summary.removed} removed; {counted(summary.chunks_written, 'chunk')} written; "
            f"{summary.audio_seconds:.0f} s of audio transcribed in {summary.wall_seconds:.0f} s"
        )
        if summary.feeds_checked:
            click.echo(
                f"{counted(summary.feeds_checked, 'feed')} checked ({summary.feeds_unchanged} unchanged), "
                f"{counted(summary.episodes_downloaded, 'episode')} downloaded"
            )
    if summary.stale:
        click.echo(
            f"{summary.stale} transcripts were made with other transcription settings; rerun with --retranscribe to redo them",
            err=True,
        )
    if summary.reindex_needed:
        click.echo(
            f"{summary.reindex_needed} recordings were chunked with other chunking settings; "
            "run `heard reindex` to rebuild the index",
            err=True,
        )
    ctx.exit(summary.exit_code)


@main.command()
@SUMMARY_FORMAT
@click.option("-q", "--quiet", is_flag=True, help="Report failures only.")
@click.pass_context
def reindex(ctx: click.Context, /, output_format: str, quiet: bool) -> None:
    """Rebuild the index from transcripts/ without transcribing: after changing embedding.model or
    chunking, or when the index is damaged. Search keeps answering from the old index meanwhile.
    """
    from pipeline.jobs.reindex import reindex as run_reindex

    settings = _settings(ctx)
    with _reporter(quiet) as reporter, user_errors():
        summary = run_reindex(settings, reporter=reporter)
    if output_format == "json":
        click.echo(json.dumps(summary.to_dict()))
    else:
        kept = f" ({summary.kept} kept as they were in the old index)" if summary.kept else ""
        click.echo(
            safe(
                f"rebuilt {settings.index_dir}: {summary.recordings} recordings, {summary.chunks_written} chunks, "
                f"{summary.failed} failed{kept}, in {summary.wall_seconds:.0f} s"
            )
        )
    ctx.exit(summary.exit_code)


@main.command()
@format_option(("text", "json"), "text")
@click.pass_context
def status(ctx: click.Context, /, output_format: str) -> None:
    """Recordings by status, chunks, audio hours, the last run, recent failures, models and index size."""
    from pipeline.jobs.status import collect_status, format_status

    settings = _settings(ctx)
    with user_errors():
        found = collect_status(settings)
    click.echo(json.dumps(found) if output_format == "json" else format_status(found))


@contextlib.contextmanager
def _reporter(quiet: bool) -> Iterator[Reporter]:
    from pipeline.jobs.progress import reporter_for

    reporter = reporter_for(sys.stderr, quiet=quiet)
    try:
        yield reporter
    finally:
        if hasattr(reporter, "close"):
            reporter.close()


@main.command()
@declared(SEARCH)
@declared((JUDGE,))
@format_option(HIT_FORMATS, "table")
@click.pass_context
def search(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """Find what was said about QUERY: ranked quotes with speaker, recording and timestamp.

    QUERY may be a whole question: "what do customers say about pricing" searches for pricing.
    Filters combine: --role customer --company acme --tag pricing --since 2026-01-01.
    --all lists every quote that answers and counts them: "pricing: 7 of 20 recordings, 9 quotes";
    --all --judge keeps those the configured LLM says answer (docs/ask.md).
    Each quote ends with its quote id (heard clip, heard save).
    """
    from pipeline.answering.options import check_judge
    from pipeline.finding import formats
    from pipeline.finding.hits import group_by_recording
    from pipeline.finding.options import search_request
    from pipeline.finding.searcher import search_once

    settings = _settings(ctx)
    with user_errors():
        request = search_request(parsed(SEARCH, given))
        judge = bool(parsed((JUDGE,), given).get("judge"))
        check_judge(judge, request.every)
        hits, answers = search_once(settings, request)
    # JSON and CSV keep their schema on stdout; the count goes beside them on stderr.
    aside = output_format in ("json", "csv")
    if answers is not None:
        click.echo(answers.count_line(), err=aside)
    failed = False
    if judge:
        from pipeline.answering.judge import judge_all

        with user_errors():
            judgement = judge_all(settings, request.query, hits, filters=request.filters, announce=_aside)
        hits, failed = judgement.kept, judgement.error is not None
        click.echo(judgement.line(), err=aside or failed)
    writer = formats.writer(output_format)
    if request.group:
        text = writer.groups(group_by_recording(hits), title=request.query)
    else:
        text = writer.hits(hits, title=request.query)
    click.echo(text, nl=output_format != "csv")
    ctx.exit(1 if failed else 0)


def _aside(line: str) -> None:
    click.echo(line, err=True)


@main.command()
@declared(ASK)
@format_option(("text", "json", "md"), "text")
@click.pass_context
def ask(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """Answer QUESTION from the interviews, with the quotes that support each part of the answer.

    With an LLM configured (llm.base_url, llm.model: docs/ask.md) heard sends the question and the
    quotes that answer it (names, e-mail addresses and phone numbers redacted), asks which quotes
    answer and for a short answer citing them, and drops every sentence that cites no quote it was
    sent. Without one, nothing leaves this machine: the themes of the quotes that answer, each with
    its two most representative quotes. Takes the filters of `heard search`.

    Exit codes: 0 answered, 1 the LLM failed (its reason on stderr; the extractive answer is
    printed), 2 usage or config error.
    """
    from pipeline.answering import writers
    from pipeline.answering.ask import ask_once
    from pipeline.answering.options import ask_request

    settings = _settings(ctx)
    with user_errors():
        request = ask_request(parsed(ASK, given))
        answer = ask_once(settings, request, announce=_aside)
    if answer.error:
        click.echo(f"Error: {answer.error}; the extractive answer follows", err=True)
    if output_format == "json":
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(writers.markdown(answer) if output_format == "md" else writers.text(answer))
    ctx.exit(1 if answer.error else 0)


@main.command()
@declared(THEMES)
@format_option(HIT_FORMATS, "table")
@click.pass_context
def themes(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """What customers talk about: their quotes across all recordings, grouped into themes.

    Each theme has a label (key phrases of its quotes), how many recordings and companies mention it,
    and its quotes, most representative first. With QUERY, only the quotes that answer it; the
    filters of `heard search` narrow the recordings. Kept in the data dir until the index changes.
    """
    from pipeline.finding import formats
    from pipeline.finding.options import themes_request
    from pipeline.finding.searcher import themes_once

    settings = _settings(ctx)
    with user_errors():
        request = themes_request(parsed(THEMES, given))
        found = themes_once(settings, request)
    title = f"Themes in the answers to “{request.query}”" if request.query else "Themes across all recordings"
    click.echo(formats.writer(output_format).themes(found, title=title, quotes=request.shown), nl=output_format != "csv")


@main.command("eval")
@click.argument("queries_file", metavar="QUERIES.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "keyword", "all"]),
    default=None,
    help="Retrieval to measure [default: search.mode]; all: dense, keyword and hybrid side by side.",
)
@click.option("-k", "k", type=click.IntRange(1, MAX_K), default=5, show_default=True, help="Cut-off for the misses listed.")
@format_option(("text", "json"), "text")
@click.option(
    "--answers",
    is_flag=True,
    help="Also measure `search --all` (every quote above search.all_cutoff): precision and recall over all labeled spans.",
)
@click.pass_context
def eval_command(ctx: click.Context, /, queries_file: str, mode: str | None, k: int, output_format: str, answers: bool) -> None:
    """Measure search on labeled queries against the current index (ingests nothing).

    QUERIES.yaml lists queries, each with the spans that answer it:
    queries: [{query: ..., relevant: [{recording: name.mp3, start: 12.0, end: 20.5}]}].
    A hit is relevant when at least half of it lies inside a labeled span.
    """
    from pipeline.finding import eval as evaluation
    from pipeline.finding.searcher import Searcher

    settings = _settings(ctx)
    with user_errors(), Searcher(settings) as searcher:
        queries = evaluation.load_queries(queries_file)
        modes = ["dense", "keyword", "hybrid"] if mode == "all" else [mode]
        reports = [evaluation.evaluate(queries, searcher, mode=m, ks=evaluation.cutoffs_with(k)) for m in modes]
        every = {m: evaluation.evaluate_all(queries, searcher, mode=m) for m in modes} if answers else {}
    if output_format == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "mode": r.mode,
                        "queries": len(r.results),
                        **r.averages,
                        "by_kind": r.by_kind(),
                        **({"all_answers": _all_answers_json(every[r.mode])} if every else {}),
                        "misses": [
                            {"query": res.query.query, "missed": [s.__dict__ for s in missed]} for res, missed in r.misses(k)
                        ],
                    }
                    for r in reports
                ]
            )
        )
        return
    click.echo(evaluation.report_text(reports, k))
    for report in every.values():
        click.echo(evaluation.all_answers_line(report))


def _all_answers_json(report: AllReport) -> dict[str, Any]:
    return {"cutoff": report.cutoff, "cut": report.cut, "by_kind": report.by_kind()}


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on. Anything but a loopback address needs --token."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--token", envvar="HEARD_TOKEN", help="Access token every request must carry [env HEARD_TOKEN]; required off 127.0.0.1."
)
@click.pass_context
def serve(ctx: click.Context, /, host: str, port: int, token: str | None) -> None:
    """Open the search page: quotes you can play, transcripts, exports and a JSON API at /api/."""
    from pipeline.web.serve import serve as run_serve

    settings = _settings(ctx)
    with user_errors():
        run_serve(settings, host=host, port=port, token=token, announce=lambda line: click.echo(line, err=True))


@main.group()
def feeds() -> None:
    """Podcast subscriptions, fetched by `heard ingest --feeds` (kept in the data dir's feeds.yaml)."""


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="The show name hits carry [default: the feed's title].")
@click.pass_context
def feeds_add(ctx: click.Context, /, url: str, name: str | None) -> None:
    """Subscribe to the podcast feed at URL (checked by fetching it once)."""
    from pipeline.sources.feeds.subscriptions import subscribe

    settings = _settings(ctx)
    with user_errors():
        subscription, new, title, episodes = subscribe(url, settings, name=name)
    what = "subscribed to" if new else "already subscribed to"
    # The URL's password stays in feeds.yaml; the feed's title is the publisher's text.
    click.echo(
        safe(f"{what} {subscription.name or title} ({url}): {counted(episodes, 'episode')}; ")
        + "`heard ingest --feeds` fetches and indexes them"
    )


@feeds.command("list")
@format_option(("text", "json"), "text")
@click.pass_context
def feeds_list(ctx: click.Context, /, output_format: str) -> None:
    """The subscribed feeds, with what the last ingest fetched."""
    from pipeline.sources.feeds.subscriptions import describe

    settings = _settings(ctx)
    with user_errors():
        rows = describe(settings)
    if output_format == "json":
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no subscriptions; add one with `heard feeds add URL`")
    for row in rows:
        checked = f"checked {row['checked_at']}" if row["checked_at"] else "not fetched yet"
        failed = f", {row['failed']} failed" if row["failed"] else ""
        fetched = f"{row['fetched']} of {counted(row['episodes'], 'episode')} fetched"
        click.echo(safe(f"{row['name'] or row['url']}  {row['url']}  {checked}; {fetched}{failed}"))


@feeds.command("remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx: click.Context, /, url: str) -> None:
    """Unsubscribe from URL; its episodes already indexed stay searchable."""
    from pipeline.sources.feeds.subscriptions import unsubscribe

    settings = _settings(ctx)
    with user_errors():
        name, folder = unsubscribe(url, settings)
    click.echo(safe(f"unsubscribed from {name}; its episodes stay indexed (files in {folder})"))


@main.group(invoke_without_command=True)
@format_option(("text", "json"), "text")
@click.pass_context
def speakers(ctx: click.Context, /, output_format: str) -> None:
    """The voices heard across recordings: list them (the default), name, merge and split them.

    Each recording's speakers (S1, S2, ...) are matched by voice across recordings into voices V1,
    V2, ... Naming a voice names it in every recording where it speaks, past and future; the
    recordings it changes are re-indexed at once (no transcribing). A recording's metadata
    (speakers:) still wins over a voice's name.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.jobs.identities import list_voices

    settings = _settings(ctx)
    with user_errors():
        found = list_voices(settings)
    if output_format == "json":
        click.echo(json.dumps([v.to_dict() for v in found]))
        return
    if not found:
        click.echo("no voices yet: `heard ingest FOLDER` finds the speakers of each recording")
        return
    # Names and titles are other people's text: each line is printed through safe(), so no name can
    # restyle the terminal or forge a line of the listing.
    width = max(len(_who(v)) for v in found)
    for voice in found:
        where = ", ".join(f"{safe(h.title or h.recording_id)} ({h.label})" for h in voice.heard[:3])
        more = f", and {voice.recordings - 3} more" if voice.recordings > 3 else ""
        heard_in = counted(voice.recordings, "recording")
        click.echo(safe(f"{voice.id:<4} {_who(voice):<{width}}  {heard_in}, {voice.seconds / 60:.1f} min: ") + f"{where}{more}")


def _print_change(change: VoiceChange, what: str) -> None:
    changed = len(change.changed)
    if change.waiting:
        click.echo(
            safe(
                f"{what}; {counted(changed, 'recording')} to re-index, not done now ({change.waiting}); the next "
                "`heard ingest` of their folders, or `heard reindex`, does it"
            )
        )
    else:
        done = f"re-indexed {counted(change.reindexed, 'recording')}" if changed else "no indexed recording changed"
        click.echo(safe(f"{what}; {done}"))
    for failure in change.failures:
        click.echo(safe(f"not re-indexed: {failure}"), err=True)


def _who(voice: VoiceListing) -> str:
    """'Dana (interviewer)', 'unnamed'; the name as one printable line, whatever was stored."""
    who = safe(voice.name) if voice.name else "unnamed"
    return f"{who} ({voice.role})" if voice.role else who


@speakers.command("name")
@click.argument("voice")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES, case_sensitive=False), help="Their role wherever they speak.")
@click.pass_context
def speakers_name(ctx: click.Context, /, voice: str, name: str, role: str | None) -> None:
    """Name VOICE (V1, V2, ... from `heard speakers`) NAME in every recording where it speaks."""
    from pipeline.jobs.identities import name_voice

    settings = _settings(ctx)
    with user_errors():
        change = name_voice(settings, voice, name, role=role.lower() if role else None)
    recordings = change.voice.recordings
    _print_change(change, f"{change.voice.id} is {_who(change.voice)} in {counted(recordings, 'recording')}")


@speakers.command("merge")
@click.argument("voice")
@click.argument("other")
@click.pass_context
def speakers_merge(ctx: click.Context, /, voice: str, other: str) -> None:
    """OTHER is the same person as VOICE: one voice from now on (VOICE's id and name)."""
    from pipeline.jobs.identities import merge_voices

    settings = _settings(ctx)
    with user_errors():
        change = merge_voices(settings, voice, other)
    _print_change(change, f"{other} merged into {change.voice.id}, {_who(change.voice)}: {change.voice.recordings} recordings")


@speakers.command("split")
@click.argument("voice")
@click.argument("speaker", metavar="RECORDING[:LABEL]")
@click.pass_context
def speakers_split(ctx: click.Context, /, voice: str, speaker: str) -> None:
    """The speaker of RECORDING (an id, path or file name; :LABEL picks one, e.g. :S2) is not VOICE:
    it becomes a voice of its own and stays apart from VOICE from now on."""
    from pipeline.jobs.identities import split_voice

    settings = _settings(ctx)
    with user_errors():
        change = split_voice(settings, voice, speaker)
    _print_change(change, f"split {speaker} from {voice} into {change.voice.id}")


# Evidence: highlights in collections, clips and reports (pipeline/evidence/) ----------------------------


def _who_said(speaker: str | None, role: str | None) -> str:
    name = speaker or "Unknown speaker"
    return f"{name} ({role})" if role else name


@main.command()
@declared(evidence_options.SAVE)
@format_option(("text", "json"), "text")
@click.pass_context
def save(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """Keep the quote QUOTE_ID (from a search) in a collection, with a note and tags.

    A saved quote is its span of the transcript: it stays as it is through `heard reindex`, a new
    embedding model and speaker renames, and keeps its words if its recording is deleted.
    Saving it again replaces the note or tags given.
    """
    from pipeline.evidence.highlights import save as save_quote
    from pipeline.evidence.options import tags_of
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        values = parsed(evidence_options.SAVE, given)
        saved = save_quote(settings, values["quote_id"], values["collection"], note=values["note"], tags=tags_of(values))
    quote = saved.quote
    if output_format == "json":
        click.echo(json.dumps({**quote.to_dict(), "new": saved.new, "collection_quotes": saved.collection_quotes}))
        return
    what = "saved to" if saved.new else "updated in"
    count = counted(saved.collection_quotes, "quote")
    click.echo(
        printable(
            f"{what} {quote.collection} ({count}): “{quote.text}” — {_who_said(quote.speaker, quote.role)}, "
            f"{quote.title} at {quote.timestamp}"
        )
    )


@main.command()
@declared(evidence_options.UNSAVE)
@click.pass_context
def unsave(ctx: click.Context, /, **given: Any) -> None:
    """Take the quote QUOTE_ID out of a collection (--from), or out of every collection that holds it."""
    from pipeline.evidence.highlights import unsave as unsave_quote
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        values = parsed(evidence_options.UNSAVE, given)
        removed = unsave_quote(settings, values["quote_id"], values["collection"])
    click.echo(printable(f"removed {values['quote_id']} from {', '.join(removed)}"))


@main.group(invoke_without_command=True)
@format_option(("text", "json"), "text")
@click.pass_context
def collections(ctx: click.Context, /, output_format: str) -> None:
    """The collections of saved quotes (heard save): list them (the default), show, rename, remove."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.evidence.highlights import collections as list_collections
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        found = list_collections(settings)
    if output_format == "json":
        click.echo(json.dumps([c.to_dict() for c in found]))
        return
    if not found:
        click.echo('no collections yet: `heard save QUOTE_ID --to "Pricing pain"` keeps a quote from a search in one')
    for collection in found:
        quotes = counted(collection.quotes, "quote")
        recordings = counted(collection.recordings, "recording")
        last = f", last saved {collection.updated_at[:10]}" if collection.updated_at else ""
        click.echo(printable(f"{collection.name}: {quotes} from {recordings}{last}"))


@collections.command("show")
@declared(evidence_options.SHOW)
@format_option(("text", "json", "md"), "text")
@click.pass_context
def collections_show(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """The quotes saved in the collection NAME, with speakers as they are named now, notes and tags."""
    from pipeline.evidence.highlights import show
    from pipeline.evidence.listing import collection_text

    settings = _settings(ctx)
    with user_errors():
        name, quotes = show(settings, parsed(evidence_options.SHOW, given)["name"])
    if output_format == "json":
        click.echo(json.dumps({"name": name, "quotes": [q.to_dict() for q in quotes]}))
        return
    click.echo(collection_text(name, quotes, markdown=output_format == "md"))


@collections.command("rename")
@declared(evidence_options.RENAME)
@click.pass_context
def collections_rename(ctx: click.Context, /, **given: Any) -> None:
    """Call the collection NAME NEW_NAME from now on."""
    from pipeline.evidence.highlights import rename
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        values = parsed(evidence_options.RENAME, given)
        old, new = rename(settings, values["name"], values["new_name"])
    click.echo(printable(f"renamed {old} to {new}"))


@collections.command("remove")
@declared(evidence_options.REMOVE)
@click.pass_context
def collections_remove(ctx: click.Context, /, **given: Any) -> None:
    """Delete the collection NAME and the quotes saved in it (the recordings stay indexed)."""
    from pipeline.evidence.highlights import remove
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        name, count = remove(settings, parsed(evidence_options.REMOVE, given)["name"])
    click.echo(printable(f"removed {name} and its {counted(count, 'saved quote')}"))


@main.command()
@declared(evidence_options.CLIP)
@click.pass_context
def clip(ctx: click.Context, /, **given: Any) -> None:
    """Write the audio of the quote QUOTE_ID to a file: -o quote.mp3 (or .m4a, .ogg, .opus, .wav).

    Cut at the quote's first and last word, --pad seconds wider, with the encoders PyAV bundles.
    A recording with no audio (an imported transcript, a feed episode without audio) says why.
    """
    from pathlib import Path

    from pipeline.evidence.clips import write_clip
    from pipeline.messages import printable

    settings = _settings(ctx)
    with user_errors():
        values = parsed(evidence_options.CLIP, given)
        found = write_clip(settings, values["quote_id"], Path(values["output"]), pad=values["pad"])
    click.echo(
        printable(f"wrote {values['output']}: {found.end - found.start:.1f} s of “{found.title}” from {found.start:.2f} s")
    )


@main.command()
@declared(evidence_options.REPORT)
@format_option(("text", "json"), "text", "json: print the report's quotes, themes and counts as one JSON object.")
@click.pass_context
def report(ctx: click.Context, /, output_format: str, **given: Any) -> None:
    """A report to share: every answer to QUERY (as `heard search --all` counts them), or a saved
    collection (--collection NAME), with its themes and each quote's clip.

    -o FILE.html writes one self-contained page (clips inside, nothing fetched: it plays from a mail
    attachment); -o FILE.md writes Markdown and a folder of mp3 clips beside it. Only the customers'
    (or guests') own words: a search is narrowed to that role, and the filters used are printed in it.
    """
    from pathlib import Path

    from pipeline.evidence.writing import report_once

    settings = _settings(ctx)
    with user_errors():
        values = parsed(evidence_options.REPORT, given)
        output = Path(values["output"]) if values["output"] else None
        if output is None and output_format != "json":
            raise HeardClickError("give the file to write: -o FILE.html or -o FILE.md (or --format json to print it)", 2)
        written = report_once(settings, values, output, clips=not values["no_clips"])
    if output_format == "json":
        click.echo(json.dumps(written.to_dict()))
        return
    found = written.report
    shown = found.themes and found.kind != "themes"  # a themes report's count line names them already
    themes = f", {counted(len(found.themes), 'theme')}" if shown else ""
    from pipeline.messages import printable

    size = f"{written.size / 1e6:.1f} MB" if written.size >= 100_000 else f"{max(1, round(written.size / 1000))} KB"
    clips = counted(written.clips, "clip")
    click.echo(printable(f"wrote {output} ({size}): {found.count_line}{themes}, {clips}"))
    for line in found.left_out:
        click.echo(printable(line), err=True)


@main.command("convert-model")
@click.argument("model")
@click.argument("output", type=click.Path(dir_okay=False))
def convert_model(model: str, output: str) -> None:
    """Write an openai-whisper checkpoint (.pt) from CTranslate2 Whisper weights.

    MODEL is a CTranslate2 model folder or a name shipped offline (tiny.en, base).
    """
    from pipeline.hearing.convert import convert_model as run_convert

    with user_errors():
        written = run_convert(model, output)
    click.echo(safe(f"wrote {written}; use it with transcribe.backend: openai-whisper and transcribe.model: {written}"))


if __name__ == "__main__":
    main()
