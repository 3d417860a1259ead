"""The built-in lists behind the known-safe command classifier, kept as plain data.

`codex.approval.safe_commands` turns these tables into `CommandRule` objects; nothing here is
executed. To trust more programs, users add `approval.trusted_commands` in config.toml instead of
editing this file (see the docstring of `codex.approval.safe_commands`).

Each entry of `COMMANDS` maps a program name to a `CommandData`; an empty entry means every option
of that program only reads. The option spellings follow one convention everywhere:

- `"--long"`: a GNU-style long option; `--long=value` and any abbreviation (`--lo`) match too,
  because getopt_long and git accept unambiguous abbreviations.
- `"-x"`: a one-letter option; it matches anywhere inside a cluster (`-rx`, `-kx1`), which errs
  toward "unsafe" when a letter is really the value of an earlier option.
- `"-word"`: a find-style primary; only the exact word matches.
"""

from __future__ import annotations

from typing import Final, TypedDict


def _words(text: str) -> frozenset[str]:
    """Split a blank-separated list: long tables read better as text than as quoted literals."""
    return frozenset(text.split())


class CommandData(TypedDict, total=False):
    """How one program is restricted; every key is optional."""

    forbidden_options: dict[str, str]  # option spelling -> why it is not safe
    max_operands: int  # more operands than this makes it unsafe (`uniq IN OUT` writes OUT)
    value_options: tuple[str, ...]  # options whose value is the next argument (for counting)
    checker: str  # name of a dedicated validator in safe_commands ("sed", "git")


_RUNS = "runs another program"
_WRITES = "writes a file"

COMMANDS: Final[dict[str, CommandData]] = {
    # Read-only whatever the options: they print to standard output and nothing else.
    **{
        name: CommandData()
        for name in _words(
            "basename b2sum cat cd cksum cmp column comm cut diff dirname du echo egrep expand "
            "false fgrep fold grep groups head id ls md5sum nl nproc od paste printf pwd readlink "
            "realpath rev seq sha1sum sha224sum sha256sum sha384sum sha512sum stat tac tail test "
            "tr true uname unexpand wc which whoami"
        )
    },
    "base64": {"forbidden_options": {"-o": _WRITES, "--output": _WRITES}},  # BSD/macOS spelling
    "date": {"forbidden_options": {"-s": "sets the system clock", "--set": "sets the system clock"}},
    "file": {"forbidden_options": {"-C": "compiles a magic file", "--compile": "compiles a magic file"}},
    "sort": {
        "forbidden_options": {
            "-o": _WRITES,
            "--output": _WRITES,
            "--compress-program": _RUNS,
            "-T": "writes temporary files into a chosen directory",
            "--temporary-directory": "writes temporary files into a chosen directory",
        }
    },
    "tree": {
        "forbidden_options": {
            "-o": _WRITES,
            "-R": "writes an output file in every directory",
        }
    },
    "uniq": {
        "max_operands": 1,
        "value_options": ("-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"),
    },
    "find": {
        "forbidden_options": {
            "-exec": _RUNS,
            "-execdir": _RUNS,
            "-ok": _RUNS,
            "-okdir": _RUNS,
            "-delete": "deletes files",
            "-fls": _WRITES,
            "-fprint": _WRITES,
            "-fprint0": _WRITES,
            "-fprintf": _WRITES,
        }
    },
    "rg": {
        "forbidden_options": {
            "--pre": _RUNS,
            "--hostname-bin": _RUNS,
            "-z": "runs decompression programs",
            "--search-zip": "runs decompression programs",
        }
    },
    "sed": {"checker": "sed"},
    "git": {"checker": "git"},
}

# `sed` is safe only as `sed -n SCRIPT [FILE...]` where SCRIPT prints line ranges (`1,20p`,
# `/re/p`, `$p`, joined by `;`). These options may accompany `-n`; anything else is unsafe.
SED_OPTIONS: Final[frozenset[str]] = _words(
    "-n --quiet --silent -E -r --regexp-extended -s --separate -u --unbuffered -z --null-data "
    "--posix"
)
SED_QUIET: Final[frozenset[str]] = frozenset({"-n", "--quiet", "--silent"})
SED_SCRIPT_OPTIONS: Final[frozenset[str]] = frozenset({"-e", "--expression"})

# git: global options allowed before the subcommand. Options that point git at another repository,
# configuration or executables (`-C`, `-c`, `--config-env`, `--exec-path`, `--git-dir`,
# `--work-tree`, `--namespace`, ...) are absent, so they are unsafe: another repository's config
# (`core.fsmonitor`, `diff.external`, `core.pager`) makes even `git status` run its programs.
GIT_GLOBAL_FLAGS: Final[frozenset[str]] = _words(
    "--no-pager -P --paginate -p --no-optional-locks --literal-pathspecs --glob-pathspecs "
    "--noglob-pathspecs --icase-pathspecs --no-replace-objects"
)
GIT_GLOBAL_VALUE_OPTIONS: Final[frozenset[str]] = frozenset()
# Script commands after which git would run in another directory (see `classify(elsewhere=...)`).
DIRECTORY_CHANGERS: Final[frozenset[str]] = frozenset({"cd", "pushd", "popd"})

# Read-only subcommands and the options that still make them write or run programs.
_GIT_DIFF_LIKE: dict[str, str] = {
    "--output": _WRITES,
    "--ext-diff": "runs an external diff program",
    "--textconv": "runs text-conversion filters",
}
GIT_SUBCOMMANDS: Final[dict[str, dict[str, str]]] = {
    "status": dict(_GIT_DIFF_LIKE),
    "log": dict(_GIT_DIFF_LIKE),
    "diff": dict(_GIT_DIFF_LIKE),
    "show": dict(_GIT_DIFF_LIKE),
}

# Real options that look like abbreviations of a forbidden one (`--text` is not `--textconv`).
GIT_EXACT_OPTIONS: Final[frozenset[str]] = frozenset({"--text"})

# `git branch` only lists: an allowlist, because most of its options create, move or delete.
GIT_BRANCH_FLAGS: Final[frozenset[str]] = _words(
    "-a --all -r --remotes -l --list -v -vv --verbose -q --quiet --show-current --color "
    "--no-color --column --no-column --no-abbrev -i --ignore-case --omit-empty"
)
GIT_BRANCH_SHORT_LETTERS: Final[frozenset[str]] = frozenset("arlvqi")
GIT_BRANCH_EQUALS_OPTIONS: Final[frozenset[str]] = _words(
    "--color --column --abbrev --sort --format --contains --no-contains --merged --no-merged "
    "--points-at"
)
GIT_BRANCH_VALUE_OPTIONS: Final[frozenset[str]] = _words(
    "--sort --format --contains --no-contains --merged --no-merged --points-at"
)
# Positional arguments are patterns (not new branch names) only in explicit list mode.
GIT_BRANCH_LIST_MODE: Final[str] = "--list"

# Shells whose `-c`/`-lc` script is parsed and checked command by command.
SCRIPT_SHELLS: Final[frozenset[str]] = frozenset({"bash", "sh", "zsh", "dash"})
SCRIPT_FLAGS: Final[frozenset[str]] = frozenset({"-c", "-lc"})

# A program named by absolute path counts as the bare name only in these directories; `./ls` or
# `/tmp/ls` could be anything.
SYSTEM_BIN_DIRS: Final[tuple[str, ...]] = ("/bin/", "/usr/bin/")
