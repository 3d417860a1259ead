"""Where an approved command runs: inside the sandbox, or outside it.

A question to the person says where the command will run, and the answer covers exactly that,
so one command gets one question (see ``CommandFacts.placement``). The prediction:

- read-only sandbox: outside. It allows no writes at all, and a command is only asked about
  because it is not known to be read-only; approving it means "let it do its work".
- workspace-write: outside when the command names a write target the sandbox would refuse
  (a redirection ``> /etc/x``, or a path given to ``touch``, ``mkdir``, ``rm``, ``cp`` ...
  outside the writable roots or inside a protected path such as ``.git``); inside otherwise.
- danger-full-access, or no sandbox backend: there is no sandbox to run in.

It is a prediction from the command's words, not a proof. When it says "inside" and the sandbox
then denies the command, the person is asked once more, with what the sandbox denied, before
anything runs outside; an approval never covers a run outside the sandbox that was not shown.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.sandbox import SandboxPolicy

# Programs whose path arguments are all written (created, removed, changed).
_WRITES_EVERY_PATH = frozenset({"touch", "mkdir", "rm", "rmdir", "tee", "truncate", "chmod", "chown", "chgrp",
                                "unlink", "shred", "mkfifo"})
# Programs that write only their last path argument (the destination).
_WRITES_LAST_PATH = frozenset({"cp", "mv", "install", "ln", "rsync"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "\n", "(", ")"})
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>"})
# Writing to these is allowed by every backend; they are not the filesystem.
_DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})


def write_targets(argv: Sequence[str]) -> list[str]:
    """The paths ``argv`` visibly writes, as written (``bash -c SCRIPT`` is looked into).

    >>> write_targets(["bash", "-lc", "echo hi > /etc/motd && touch a b"])
    ['/etc/motd', 'a', 'b']
    >>> write_targets(["cp", "-r", "src", "/opt/dest"])
    ['/opt/dest']
    """
    words = list(argv)
    if len(words) >= 3 and Path(words[0]).name in _SHELLS and words[1] in ("-c", "-lc", "-cl"):
        words = _script_words(words[2])
    targets: list[str] = []
    command: list[str] = []
    redirect_next = False
    for word in [*words, ";"]:
        if redirect_next:
            targets.append(word)
            redirect_next = False
        elif word in _REDIRECTS:
            redirect_next = True
        elif word in _SEPARATORS:
            targets.extend(_command_targets(command))
            command = []
        else:
            command.append(word)
    return targets


def _script_words(script: str) -> list[str]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: nothing can be said about it
        return []


def _command_targets(command: list[str]) -> list[str]:
    while command and "=" in command[0] and not command[0].startswith("="):  # VAR=value prefixes
        command = command[1:]
    if not command:
        return []
    program = Path(command[0]).name
    paths = [word for word in command[1:] if not word.startswith("-")]
    if program in _WRITES_EVERY_PATH:
        if program in ("chmod", "chown", "chgrp") and paths:
            paths = paths[1:]  # the mode or owner comes first
        return paths
    if program in _WRITES_LAST_PATH and len(paths) >= 2:
        return paths[-1:]
    return []


def outside_targets(argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> list[str]:
    """The write targets of ``argv`` (run in ``cwd``) that ``policy`` would refuse."""
    refused = []
    for target in write_targets(argv):
        if target in _DEVICES or not target or "$" in target or "*" in target:
            continue  # expansions are decided by the shell at run time; the sandbox will tell
        path = Path(os.path.expanduser(target))
        resolved = (cwd / path).resolve() if not path.is_absolute() else path.resolve()
        if not policy.allows_write(resolved):
            refused.append(target)
    return refused


def predict_placement(argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> tuple[bool, str]:
    """(outside, why): whether ``argv``, once approved, must run outside ``policy``'s sandbox.

    ``why`` completes the approval question's reason when the answer is "outside".
    """
    from codex.sandbox import SandboxMode

    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return True, "there is no sandbox (danger-full-access)"
    if policy.mode is SandboxMode.READ_ONLY:
        return True, "the sandbox is read-only and would stop it writing, so once approved it runs outside the sandbox"
    refused = outside_targets(argv, policy, cwd)
    if refused:
        shown = ", ".join(refused[:3]) + (" ..." if len(refused) > 3 else "")
        return True, f"it writes {shown}, which the sandbox does not allow, so once approved it runs outside it"
    return False, ""
