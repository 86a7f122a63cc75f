"""heard's command line: parse, call one library function, print. Library code lives in pipeline/."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from pipeline import __version__
from pipeline.errors import HeardError


class HeardClickError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.contextmanager
def user_errors():
    """Library errors become one-line messages with the design's exit codes."""
    try:
        yield
    except HeardError as exc:
        raise HeardClickError(str(exc), exc.exit_code) from exc


def _settings(ctx: click.Context):
    from pipeline.config import load_settings

    with user_errors():
        return load_settings(ctx.obj["config"], ctx.obj["data_dir"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), envvar="HEARD_CONFIG",
              help="Settings file [env HEARD_CONFIG; default: ./config.yaml if present, else built-in defaults].")
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="HEARD_DATA_DIR",
              help="Folder holding transcripts/ and the index [env HEARD_DATA_DIR].")
@click.version_option(__version__, prog_name="heard")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, data_dir: str | None) -> None:
    """Turn recorded interviews into a searchable knowledge base of timestamped quotes."""
    ctx.obj = {"config": config_file, "data_dir": data_dir}


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              help="json: print one JSON summary object as the last line of output.")
@click.option("--retranscribe", is_flag=True,
              help="Transcribe again recordings whose transcripts were made with other transcription settings.")
@click.option("-q", "--quiet", is_flag=True, help="Report failures only.")
@click.pass_context
def ingest(ctx, paths, output_format, retranscribe, quiet):
    """Transcribe and index the recordings under PATHS (folders are searched recursively).

    Exit codes: 0 all indexed, 1 some recordings failed (the others were indexed), 2 usage or config error.
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.progress import reporter_for

    settings = _settings(ctx)
    reporter = reporter_for(sys.stderr, quiet=quiet)
    try:
        with user_errors():
            summary = run_ingest(list(paths), settings, reporter=reporter, retranscribe=retranscribe)
    finally:
        if hasattr(reporter, "close"):
            reporter.close()
    if output_format == "json":
        click.echo(json.dumps(summary.to_dict()))
    else:
        click.echo(
            f"{summary.new} new, {summary.unchanged} unchanged, {summary.failed} failed; "
            f"{summary.chunks_written} chunks written; {summary.audio_seconds:.0f} s of audio transcribed "
            f"in {summary.wall_seconds:.0f} s"
        )
        if summary.stale:
            click.echo(f"{summary.stale} transcripts were made with other transcription settings; "
                       "rerun with --retranscribe to redo them", err=True)
    ctx.exit(summary.exit_code)


@main.command()
@click.argument("query")
@click.option("-k", "--top", "k", type=click.IntRange(min=1), default=None, help="How many quotes [default: search.k, 5].")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "md", "csv"]), default="table")
@click.option("--per-recording", type=click.IntRange(min=1), default=None,
              help="At most N quotes from one recording [default: search.per_recording, no cap].")
@click.option("--group", is_flag=True, help="Group the quotes by recording (json: a list of recordings with their hits).")
@click.pass_context
def search(ctx, query, k, output_format, per_recording, group):
    """Find what was said about QUERY: ranked quotes with speaker, recording and timestamp.

    QUERY may be a whole question: "what do customers say about pricing" searches for pricing.
    """
    from pipeline import formats
    from pipeline.search import group_by_recording
    from pipeline.search import search as run_search

    settings = _settings(ctx)
    with user_errors():
        hits = run_search(query, settings, k=k, per_recording=per_recording)
    if group and output_format != "csv":
        groups = group_by_recording(hits)
        if output_format == "json":
            click.echo(formats.groups_to_json(groups))
        elif output_format == "md":
            click.echo(formats.groups_to_markdown(groups, query))
        else:
            formats.print_groups_table(groups, query)
        return
    if group:  # csv rows carry their recording: grouping is an order
        hits = [hit for g in group_by_recording(hits) for hit in g.hits]
    if output_format == "json":
        click.echo(formats.hits_to_json(hits))
    elif output_format == "md":
        click.echo(formats.hits_to_markdown(hits, query))
    elif output_format == "csv":
        click.echo(formats.hits_to_csv(hits), nl=False)
    else:
        formats.print_hits_table(hits, query)


@main.command("eval")
@click.argument("queries_file", metavar="QUERIES.yaml", type=click.Path(dir_okay=False))
@click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword", "all"]), default=None,
              help="Retrieval to measure [default: search.mode]; all: dense, keyword and hybrid side by side.")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Cut-off for the misses listed.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def eval_command(ctx, queries_file, mode, k, output_format):
    """Measure search on labeled queries against the current index (ingests nothing).

    QUERIES.yaml lists queries, each with the spans that answer it:
    queries: [{query: ..., relevant: [{recording: name.mp3, start: 12.0, end: 20.5}]}].
    A hit is relevant when at least half of it lies inside a labeled span.
    """
    from pipeline import eval as evaluation

    settings = _settings(ctx)
    with user_errors():
        queries = evaluation.load_queries(queries_file)
        modes = ["dense", "keyword", "hybrid"] if mode == "all" else [mode]
        reports = [evaluation.evaluate(queries, settings, mode=m) for m in modes]
    if output_format == "json":
        click.echo(json.dumps([{"mode": r.mode, "queries": len(r.results), **r.averages, "by_kind": r.by_kind(),
                                "misses": [{"query": res.query.query, "missed": [s.__dict__ for s in missed]}
                                           for res, missed in r.misses(k)]} for r in reports]))
        return
    click.echo(evaluation.report_text(reports, k))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs --token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--token", envvar="HEARD_TOKEN",
              help="Access token every request must carry [env HEARD_TOKEN]; required off 127.0.0.1.")
@click.pass_context
def serve(ctx, host, port, token):
    """Open the search page: quotes you can play, transcripts, exports and a JSON API at /api/."""
    from pipeline.web.serve import serve as run_serve

    settings = _settings(ctx)
    with user_errors():
        run_serve(settings, host=host, port=port, token=token, announce=lambda line: click.echo(line, err=True))


@main.command("convert-model")
@click.argument("model")
@click.argument("output", type=click.Path(dir_okay=False))
def convert_model(model, output):
    """Write an openai-whisper checkpoint (.pt) from CTranslate2 Whisper weights.

    MODEL is a CTranslate2 model folder or a name shipped offline (tiny.en, base).
    """
    from pathlib import Path

    from pipeline import weights
    from pipeline.convert import convert_ct2_to_openai_whisper

    source = Path(model).expanduser()
    if not weights.is_ct2_folder(source):
        source = weights.bundled_whisper_ct2(model)
    if source is None:
        raise HeardClickError(f"{model}: not a CTranslate2 model folder nor an offline model name (tiny.en, base)", 2)
    written = convert_ct2_to_openai_whisper(source, output)
    click.echo(f"wrote {written}; use it with transcribe.backend: openai-whisper and transcribe.model: {written}")


if __name__ == "__main__":
    main()
