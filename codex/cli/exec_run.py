"""What ``codex exec`` does, without click: its options, and the run.

``codex.cli.exec_cmd`` is the click command built from ``EXEC_OPTIONS``; ``quick_exec`` runs the
same thing straight from ``sys.argv`` when ``codex.cli.quick_parse`` can read the command line
as click would, which keeps click out of a scripted run's start-up.

Nobody is there to answer questions, so exec always runs under the ``never`` approval policy:
whatever would need approval is refused and the model is told why (it can then choose another
way). The sandbox still applies (``-s``, ``--full-auto``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.cli.options import AGENT_OPTIONS, IMAGE_OPTIONS, CliState, OptionSpec, merge_agent_settings
from codex.errors import CodexError, UsageError

if TYPE_CHECKING:
    from codex.cli.render_human import HumanRenderer
    from codex.cli.render_json import JsonRenderer
    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager
    from codex.protocol import ImageInput

EXEC_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("json_mode", ("--json",), "Print events as JSON lines on stdout (peer's exec schema).", kind="flag"),
    OptionSpec(
        "skip_git_repo_check",
        ("--skip-git-repo-check",),
        "Run even when the working directory is not inside a git repository.",
        kind="flag",
    ),
    OptionSpec(
        "color",
        ("--color",),
        "Colour the transcript on stderr.",
        choices=("always", "never", "auto"),
        default="auto",
        show_default=True,
    ),
    OptionSpec(
        "output_last_message",
        ("-o", "--output-last-message"),
        "Also write the final answer to FILE. Checked before the task starts (its directory must "
        "exist and be writable) and replaced in one step, so FILE is never half-written.",
        metavar="FILE",
    ),
    OptionSpec("last", ("--last",), "With `resume`: continue the most recent session.", kind="flag"),
    OptionSpec(
        "compact",
        ("--compact",),
        "With `resume`: first replace the recorded conversation by a summary the model writes, to free "
        "context (the PROMPT is then optional).",
        kind="flag",
    ),
    OptionSpec(
        "assume_yes",
        ("-y", "--yes"),
        "Answer yes to setup questions (e.g. start Ollama for --oss); never to command approvals.",
        kind="flag",
    ),
    *IMAGE_OPTIONS,
    OptionSpec(
        "output_schema",
        ("--output-schema",),
        "A JSON Schema file the final answer must follow: the model is asked for JSON of that "
        "shape (structured outputs), and an answer that does not follow it is an error (exit 1, "
        "the answer on stderr) instead of being printed. Checked before the turn starts.",
        metavar="FILE",
        path="file",
    ),
)


# Where an approval policy given for this very run comes from (a config file's is not news).
EXPLICIT_POLICY_ORIGINS = ("--ask-for-approval", "-c")


def never_asks_note(policy: str) -> str:
    """The line exec prints when it was given an approval policy it cannot follow."""
    return (
        f"codex: note: exec never asks for approval, so approval policy {policy!r} does not apply: "
        "commands that would need approval are refused and the model is told why; choose what may "
        "run unasked with -s/--sandbox or --full-auto\n"
    )


def quick_exec(argv: Sequence[str]) -> int | None:
    """Run ``codex exec ARGV`` without click, or return None when click must read ARGV."""
    from codex.cli.quick_parse import parse

    params = parse((*AGENT_OPTIONS, *EXEC_OPTIONS), argv)
    if params is None:
        return None
    return run_exec(CliState(), merge_agent_settings([params]), params)


def run_exec(state: CliState, settings: Mapping[str, Any], params: Mapping[str, Any]) -> int:
    """The body of ``codex exec``: ``params`` are the command's, ``settings`` the merged agent flags."""
    resume_path, prompt_words = _split_resume(params["args"], params["last"])
    compact = bool(params.get("compact"))
    if compact and resume_path is None:
        raise UsageError("--compact only goes with `codex exec resume`: a new session has nothing to compact")
    loaded = state.load(settings)
    if loaded.config.approval_policy != "never":
        # exec has no one to ask; a configured policy would only turn every question into a refusal.
        if loaded.origins.get("approval_policy") in EXPLICIT_POLICY_ORIGINS:
            sys.stderr.write(never_asks_note(loaded.config.approval_policy))
        loaded.config.approval_policy = "never"
        loaded.origins["approval_policy"] = "codex exec (never asks)"
    output_path = None if params["output_last_message"] is None else check_output_path(params["output_last_message"])
    attachments = _attachments(params)
    prompt = _read_prompt(prompt_words) if prompt_words or not compact else _read_optional_prompt()
    if not params["skip_git_repo_check"] and not _inside_git_repo(loaded.cwd):
        raise CodexError(
            f"{loaded.cwd} is not inside a git repository, so changes could not be reviewed or undone. "
            "Run `git init`, or pass --skip-git-repo-check."
        )
    color = params["color"]
    use_color = color == "always" or (color == "auto" and sys.stderr.isatty() and "NO_COLOR" not in _env())
    return asyncio.run(
        _run(
            state.plugins(),
            loaded,
            prompt,
            params["json_mode"],
            use_color,
            output_path,
            resume_path,
            params["assume_yes"],
            compact,
            attachments=attachments,
        )
    )


def check_output_path(raw: str) -> Path:
    """The ``-o`` file as a Path, or a UsageError saying why the answer could not be written there.

    Checked before the task starts, so a typo costs no model turn: the answer would otherwise be
    lost after the work was done.
    """
    import os

    option = "-o/--output-last-message"
    if not raw:
        raise UsageError(f"{option}: the file name is empty")
    if raw.endswith(("/", os.sep)):
        raise UsageError(f"{option} {raw}: ends with '/', so it names a directory; give a file, e.g. {raw}answer.txt")
    path = Path(raw)
    if path.is_dir():
        raise UsageError(f"{option} {raw}: is a directory; give a file in it, e.g. {path / 'answer.txt'}")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {raw}: the directory {parent} does not exist; create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {raw}: cannot create files in {parent} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {raw}: the file is not writable")
    return path


def write_output_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in one step: a temporary file in the same directory, renamed over it.

    A reader (or a crash) sees the old content or the new, never a part. A path that is not a
    regular file (``/dev/stdout``, a FIFO) is written in place, as renaming over it would replace it.
    """
    import os
    import tempfile

    target = Path(os.path.realpath(path))  # a symlink stays a symlink; its target gets the answer
    # /dev/stdout or /proc/self/fd/N is another open file of this process: renaming over what it
    # resolves to would cut that file off, so it is written as it stands.
    if str(target).startswith(("/dev/", "/proc/")) or (path.exists() and not path.is_file()):
        with open(path, "w", encoding="utf-8") as device:
            device.write(text)
        return
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def _attachments(params: Mapping[str, Any]) -> Attachments:
    """The ``-i`` images and the ``--output-schema``, read and checked before anything runs."""
    attachments = Attachments()
    if params.get("images"):
        from codex.images import load_image_arguments

        attachments.images = tuple(load_image_arguments(params["images"], Path.cwd()))
    if params.get("output_schema") is not None:
        from codex.output_schema import load_output_schema

        attachments.output_schema = load_output_schema(params["output_schema"])
    return attachments


@dataclass
class Attachments:
    """What goes with the prompt besides its text."""

    images: tuple[ImageInput, ...] = ()
    output_schema: dict[str, Any] | None = None


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _split_resume(args: tuple[str, ...], last: bool) -> tuple[Path | None, tuple[str, ...]]:
    from codex.config.loader import codex_home
    from codex.rollout import find_session

    if not args or args[0] != "resume":
        if last:
            raise UsageError("--last only goes with `codex exec resume`")
        return None, args
    rest = args[1:]
    home = codex_home()
    if last:
        return find_session(home), rest
    if not rest:
        raise UsageError("`codex exec resume` needs a session id or --last")
    return find_session(home, rest[0]), rest[1:]


def _read_prompt(words: tuple[str, ...]) -> str:
    prompt = " ".join(words)
    stdin_text = ""
    if prompt in ("", "-"):
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no prompt given: pass it as an argument, or pipe it on stdin")
        stdin_text = sys.stdin.read()
        prompt = ""
    elif sys.stdin is not None and not sys.stdin.isatty():
        stdin_text = _read_piped_stdin()
    if stdin_text.strip():
        # As the peer does: piped input joins an explicit prompt as a <stdin> block.
        prompt = f"{prompt}\n\n<stdin>\n{stdin_text.strip()}\n</stdin>" if prompt else stdin_text.strip()
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    return prompt


def _read_optional_prompt() -> str | None:
    """The prompt piped on stdin, or None (``exec resume --compact`` may run without one)."""
    text = "" if sys.stdin is None or sys.stdin.isatty() else _read_piped_stdin()
    return text.strip() or None


def _read_piped_stdin() -> str:
    """Stdin that is a pipe or file joins the prompt; an inherited but idle descriptor does not block."""
    import os
    import select
    import stat

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISREG(mode):
        return sys.stdin.read()
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        ready, _, _ = select.select([sys.stdin], [], [], 0.05)
        return sys.stdin.read() if ready else ""
    return ""


def _inside_git_repo(cwd: Path) -> bool:
    """Whether ``cwd`` lies in a git repository, found the way git finds one: a ``.git``
    directory that holds ``HEAD``, or a ``.git`` file pointing elsewhere (``gitdir: ...``).

    An empty ``.git`` (bubblewrap-based tools leave one in /tmp) makes no repository.
    """
    for directory in (cwd, *cwd.parents):
        marker = directory / ".git"
        try:
            if marker.is_dir() and (marker / "HEAD").is_file():
                return True
            if marker.is_file():
                with marker.open("rb") as handle:
                    if handle.read(8) == b"gitdir: ":
                        return True
        except OSError:
            continue
    return False


async def _run(
    pm: CodexPluginManager,
    loaded: LoadedConfig,
    prompt: str | None,
    json_mode: bool,
    color: bool,
    output_last_message: Path | None,
    resume: Path | None,
    assume_yes: bool = False,
    compact: bool = False,
    *,
    attachments: Attachments | None = None,
) -> int:
    from codex import events as ev
    from codex.engine import open_session, prepare_provider
    from codex.ui import StderrUI

    prepare_provider(pm, loaded, StderrUI(interactive=False, assume_yes=assume_yes))
    renderer: HumanRenderer | JsonRenderer
    if json_mode:
        from codex.cli.render_json import JsonRenderer

        renderer = JsonRenderer(sys.stdout)
    else:
        from codex.cli.render_human import HumanRenderer

        images = (attachments or Attachments()).images
        renderer = HumanRenderer(sys.stdout, sys.stderr, color, prompt, [image.name for image in images])
    # Both renderers show whole items only: the session need not queue their streamed pieces.
    session = await open_session(pm, loaded, resume=resume, unread=ev.STREAMED_PIECES)
    extra = attachments or Attachments()
    ops: list[ev.Op] = [ev.Compact()] if compact else []
    if prompt is not None:
        ops.append(ev.UserInput(prompt, images=extra.images, output_schema=extra.output_schema))
    last_message: str | None = None
    failed = False
    try:
        for op in ops:
            session.submit(op)
            while True:
                event = await session.next_event()
                msg = event.msg
                if isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
                    # Unreachable under `never`, but a plugin policy might still ask: refuse, never hang.
                    session.submit(ev.ApprovalAnswer(msg.request_id, ev.ReviewDecision.DENIED, "exec cannot ask"))
                renderer.handle(event)
                if isinstance(msg, ev.TaskComplete):
                    last_message = msg.last_agent_message
                    break
                if isinstance(msg, ev.Error | ev.TurnAborted):
                    failed = True
                    break
            if failed:
                break
    finally:
        await session.close()
    if output_last_message is not None:
        # A failed turn empties the file: an earlier run's answer left there would pass for this one's.
        write_output_file(output_last_message, (last_message or "") + ("\n" if last_message else ""))
    return 1 if failed else 0
