"""How an ingest run reports: a progress bar per file on a terminal, one log line per event elsewhere.

File names and reasons are other people's text: every line goes through messages.safe (a newline in
a file name cannot forge a line, an escape code cannot restyle the terminal, a URL's password is not
shown), and on a terminal it is printed as rich Text, never parsed as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from pipeline.messages import safe

if TYPE_CHECKING:
    from rich.progress import TaskID


class Reporter(Protocol):
    def start(self, path: Path, number: int, total: int) -> None: ...
    def progress(self, done_seconds: float, total_seconds: float) -> None: ...
    def done(self, path: Path, detail: str) -> None: ...
    def failed(self, path: Path, reason: str) -> None: ...
    def removed(self, path: Path, detail: str) -> None: ...
    def folder_failed(self, path: Path, reason: str) -> None: ...
    def note(self, message: str) -> None: ...


class SilentReporter:
    def start(self, path: Path, number: int, total: int) -> None:
        pass

    def progress(self, done_seconds: float, total_seconds: float) -> None:
        pass

    def done(self, path: Path, detail: str) -> None:
        pass

    def failed(self, path: Path, reason: str) -> None:
        pass

    def removed(self, path: Path, detail: str) -> None:
        pass

    def folder_failed(self, path: Path, reason: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class LogReporter:
    """Plain lines for cron mail, journald and pipes: one per finished or failed recording."""

    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self._prefix = ""

    def start(self, path: Path, number: int, total: int) -> None:
        self._prefix = f"[{number}/{total}]"

    def progress(self, done_seconds: float, total_seconds: float) -> None:
        pass

    def done(self, path: Path, detail: str) -> None:
        if not self.quiet:
            self._line(f"{self._prefix} {path}: {detail}")

    def failed(self, path: Path, reason: str) -> None:
        self._line(f"{self._prefix} {path}: FAILED: {reason}")

    def removed(self, path: Path, detail: str) -> None:
        if not self.quiet:
            self._line(f"[gone] {path}: {detail}")

    def folder_failed(self, path: Path, reason: str) -> None:
        self._line(f"[run] {path}: FAILED: {reason}")

    def note(self, message: str) -> None:
        self._line(message)

    def _line(self, text: str) -> None:
        print(safe(text), file=self.stream, flush=True)


class RichReporter:
    """A live bar per file, measured in seconds of audio transcribed."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(file=stream)
        self._bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[audio]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._label = ""

    def start(self, path: Path, number: int, total: int) -> None:
        self._label = safe(f"[{number}/{total}] {Path(path).name}")
        if self._task is None:
            self._bar.start()
        else:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(self._label, total=None, audio="")

    def progress(self, done_seconds: float, total_seconds: float) -> None:
        if self._task is None:
            return
        self._bar.update(
            self._task, completed=done_seconds, total=total_seconds, audio=f"{done_seconds:.0f}/{total_seconds:.0f} s"
        )

    def done(self, path: Path, detail: str) -> None:
        self._print(f"{self._label}: ", detail)

    def failed(self, path: Path, reason: str) -> None:
        self._print(f"{self._label}: ", ("FAILED", "red"), ": ", reason)

    def removed(self, path: Path, detail: str) -> None:
        self._print(f"[gone] {path}: {detail}")

    def folder_failed(self, path: Path, reason: str) -> None:
        self._print(f"[run] {path}: ", ("FAILED", "red"), ": ", reason)

    def note(self, message: str) -> None:
        self._print(message)

    def _print(self, *parts: str | tuple[str, str]) -> None:
        """Text pieces (or (text, style)), each made safe, as rich Text: printed as they are."""
        from rich.text import Text

        line = Text()
        for part in parts:
            text, style = part if isinstance(part, tuple) else (part, "")
            line.append(safe(text), style=style)
        self.console.print(line, highlight=False)

    def close(self) -> None:
        if self._task is not None:
            self._bar.stop()


def reporter_for(stream: TextIO = sys.stderr, quiet: bool = False) -> Reporter:
    if not quiet and stream.isatty():
        return RichReporter(stream)
    return LogReporter(stream, quiet=quiet)


class InOrderReporter:
    """Keeps the lines in file order when recordings are written later than they were read.

    While `holding`, what a file reports (its start, done, failed) is kept with the file's number;
    `release(number)` says it, once the recordings before it have been written (ingest.py batches
    recordings that are ready together). Progress passes straight through.
    """

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.holding = False
        self.number = 0
        self._held: list[tuple[int, Callable[[], None]]] = []

    def _say(self, call: Callable[[], None]) -> None:
        if self.holding:
            self._held.append((self.number, call))
        else:
            call()

    def start(self, path: Path, number: int, total: int) -> None:
        self.number = number
        self._say(lambda: self.reporter.start(path, number, total))

    def progress(self, done_seconds: float, total_seconds: float) -> None:
        self.reporter.progress(done_seconds, total_seconds)

    def done(self, path: Path, detail: str) -> None:
        self._say(lambda: self.reporter.done(path, detail))

    def failed(self, path: Path, reason: str) -> None:
        self._say(lambda: self.reporter.failed(path, reason))

    def removed(self, path: Path, detail: str) -> None:
        self._say(lambda: self.reporter.removed(path, detail))

    def folder_failed(self, path: Path, reason: str) -> None:
        self._say(lambda: self.reporter.folder_failed(path, reason))

    def note(self, message: str) -> None:
        self._say(lambda: self.reporter.note(message))

    def held_numbers(self) -> list[int]:
        return sorted({number for number, _ in self._held})

    def release(self, number: int) -> None:
        """Say what file `number` reported while held."""
        for _, call in [h for h in self._held if h[0] == number]:
            call()
        self._held = [h for h in self._held if h[0] != number]
