"""The known-safe command classifier, as an approval policy sees it: argv in, verdict and reason out.

The table pairs commands that really are read-only with look-alikes that write, delete, run code or
hide a second command; every unsafe case checks that the reason names the offending part.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codex.approval.safe_commands import (
    NotPlainScript,
    SafeCommandRules,
    Verdict,
    classify,
    matches_prefix,
    parse_plain_script,
)
from codex.errors import ConfigError
from tests.mock_model import Call
from tests.test_approval_engine import Lab, lab  # noqa: F401  (fixture)


def sh(script: str) -> list[str]:
    """The argv a model sends for a shell script."""
    return ["bash", "-lc", script]


SAFE: list[tuple[list[str], str]] = [
    # plain programs: every option only reads
    (["ls"], "`ls` is a known-safe"),
    (["ls", "-la", "src"], "`ls`"),
    (["cat", "README.md"], "`cat`"),
    (["cd", "/tmp"], "`cd`"),
    (["echo", "hello world"], "`echo`"),
    (["true"], "`true`"),
    (["false"], "`false`"),
    (["grep", "-rn", "TODO", "src"], "`grep`"),
    (["grep", "-e", "-delete", "f"], "`grep`"),
    (["head", "-n", "20", "notes.txt"], "`head`"),
    (["tail", "-n", "5", "log.txt"], "`tail`"),
    (["nl", "f"], "`nl`"),
    (["pwd"], "`pwd`"),
    (["wc", "-l", "a", "b"], "`wc`"),
    (["which", "python"], "`which`"),
    (["cut", "-d:", "-f1", "/etc/passwd"], "`cut`"),
    (["tr", "a-z", "A-Z"], "`tr`"),
    (["uniq", "-c"], "`uniq`"),
    (["uniq", "-f", "1", "input.txt"], "`uniq`"),
    (["uniq", "--skip-fields", "2", "input.txt"], "`uniq`"),
    (["sort", "-rn", "f"], "`sort`"),
    (["sort", "-k", "2", "-t", ",", "data.csv"], "`sort`"),
    (["stat", "f"], "`stat`"),
    (["uname", "-a"], "`uname`"),
    (["whoami"], "`whoami`"),
    (["id", "-u"], "`id`"),
    (["seq", "1", "10"], "`seq`"),
    (["rev", "f"], "`rev`"),
    (["paste", "-d,", "a", "b"], "`paste`"),
    (["base64", "-d", "blob.b64"], "`base64`"),
    (["du", "-sh", "."], "`du`"),
    (["file", "x.bin"], "`file`"),
    (["diff", "-u", "a.py", "b.py"], "`diff`"),
    (["/bin/ls", "-l"], "`ls`"),
    (["/usr/bin/cat", "f"], "`cat`"),
    # find without actions that run, write or delete
    (["find", ".", "-name", "*.py", "-type", "f"], "`find`"),
    (["find", ".", "-maxdepth", "2", "-print"], "`find`"),
    (["find", "src", "-newer", "setup.py", "-print0"], "`find`"),
    # rg without preprocessors
    (["rg", "-n", "needle", "src"], "`rg`"),
    (["rg", "--no-search-zip", "needle"], "`rg`"),
    (["rg", "--pre-glob", "*.gz", "needle"], "`rg`"),
    (["rg", "-e", "pattern", "--hidden", "."], "`rg`"),
    # sed -n that only prints
    (["sed", "-n", "1,20p", "f.py"], "`sed -n`"),
    (["sed", "-n", "/re/p", "f.py"], "`sed -n`"),
    (["sed", "-n", "$p", "f.py"], "`sed -n`"),
    (["sed", "-ne", "10p", "f.py"], "`sed -n`"),
    (["sed", "-n", "-e", "1p", "-e", "/start/,/end/p", "f.py"], "`sed -n`"),
    (["sed", "--quiet", "1~2p", "f.py"], "`sed -n`"),
    (["sed", "-n", "5,$!p", "f.py"], "`sed -n`"),
    (["sed", "-n", r"/a\/b/p;20,30p", "f.py"], "`sed -n`"),
    # git read-only subcommands
    (["git", "status"], "`git status` only reads"),
    (["git", "log", "--oneline", "-n", "5"], "`git log`"),
    (["git", "diff", "--stat"], "`git diff`"),
    (["git", "show", "HEAD~1"], "`git show`"),
    (["git", "--no-pager", "-P", "status"], "`git status`"),
    (["git", "--no-pager", "log", "-p"], "`git log`"),
    (["git", "diff", "--no-ext-diff"], "`git diff`"),
    (["git", "log", "--no-textconv"], "`git log`"),
    (["git", "diff", "--output-indicator-new=+"], "`git diff`"),
    (["git", "diff", "--text", "a.bin"], "`git diff`"),
    (["git", "branch"], "`git branch` only lists"),
    (["git", "branch", "-a", "-v"], "`git branch`"),
    (["git", "branch", "-avv"], "`git branch`"),
    (["git", "branch", "--show-current"], "`git branch`"),
    (["git", "branch", "--list", "feat/*"], "`git branch`"),
    (["git", "branch", "--contains", "HEAD"], "`git branch`"),
    # plain scripts
    (sh("ls -la && cat 'a b' | wc -l"), "ls, cat, wc"),
    (sh("ls\npwd"), "ls, pwd"),
    (sh("echo 'line1\nline2'"), "echo"),
    (sh("git status; git log -n 1"), "git status, git log"),
    (sh("ls *.py"), "ls"),
    (sh("rg needle src/*.rs"), "rg"),
    (sh("grep -n foo -- *.txt"), "grep"),
    (sh("false || echo fallback"), "false, echo"),
    (sh("cat \"a b\" 'c d' e\\ f"), "cat"),
    (sh("echo \"it's\""), "echo"),
    (sh("sed -n '1,20p' f.py"), "sed"),
    (sh("find . -name '*.py' -not -path './.git/*'"), "find"),
    (sh("ls \\\n  -la"), "ls"),
    (sh("ls;pwd"), "ls, pwd"),
    (sh("ls ;"), "ls"),
    (["zsh", "-lc", "ls -la"], "`zsh -lc` script"),
    (["sh", "-c", "ls"], "`sh -c` script"),
    (["/bin/bash", "-lc", "ls"], "`bash -lc` script"),
    (sh("echo ~/notes"), "echo"),
    (sh("find . ! -name x"), "find"),
    (sh("echo a#b"), "echo"),
    (sh("echo 'é ； ｜'"), "echo"),
    (sh("cat café.txt"), "cat"),
    (sh("bash -lc 'ls'"), "bash"),
    (sh("git log --oneline | head -n 3"), "git log, head"),
    (sh("git status && cd src && ls"), "git status, cd, ls"),
    (sh("  ls -l\n\n"), "ls"),
    (sh('echo "a\\"b"'), "echo"),
    (sh("echo \\$HOME"), "echo"),
    (sh("ls &&\n  pwd"), "ls, pwd"),
]

UNSAFE: list[tuple[list[str], str]] = [
    # unknown or dangerous programs
    (["rm", "-rf", "/tmp/x"], "`rm` is not a known-safe command"),
    (["python", "-c", "print(1)"], "`python`"),
    (["env", "ls"], "`env`"),
    (["xargs", "rm"], "`xargs`"),
    (["tee", "out.txt"], "`tee`"),
    (["awk", "{print}"], "`awk`"),
    (["curl", "https://example.com"], "`curl`"),
    (["./ls"], "`./ls` is a program path"),
    (["/tmp/ls"], "`/tmp/ls`"),
    ([], "empty"),
    # find actions
    (["find", ".", "-delete"], "`find -delete` deletes"),
    (["find", ".", "-exec", "rm", "{}", ";"], "`find -exec`"),
    (["find", ".", "-execdir", "sh", "-c", "x", ";"], "`find -execdir`"),
    (["find", ".", "-ok", "rm", "{}", ";"], "`find -ok`"),
    (["find", ".", "-okdir", "rm", "{}", ";"], "`find -okdir`"),
    (["find", ".", "-fls", "out"], "`find -fls` writes"),
    (["find", ".", "-fprint", "out"], "`find -fprint`"),
    (["find", ".", "-fprint0", "out"], "`find -fprint0`"),
    (["find", ".", "-fprintf", "out", "%p"], "`find -fprintf`"),
    # rg preprocessors
    (["rg", "--pre", "sh", "x"], "`rg --pre` runs"),
    (["rg", "--pre=sh", "x"], "`rg --pre=sh`"),
    (["rg", "--hostname-bin=/bin/sh", "x"], "--hostname-bin"),
    (["rg", "-z", "x"], "`rg -z`"),
    (["rg", "-iz", "x"], "`rg -iz`"),
    (["rg", "--search-zip", "x"], "--search-zip"),
    # sed beyond printing
    (["sed", "-i", "s/a/b/", "f"], "`sed -i`"),
    (["sed", "-n", "1p", "f", "-i"], "-i"),
    (["sed", "s/a/b/", "f"], "without `-n`"),
    (["sed", "-n", "1,5w out", "f"], "`1,5w out`"),
    (["sed", "-n", "s/a/b/p", "f"], "`s/a/b/p`"),
    (["sed", "-n", "1e ls"], "`1e ls`"),
    (["sed", "-n", "/x/p;w f"], "`/x/p;w f`"),
    (["sed", "-f", "script.sed"], "`sed -f`"),
    (["sed", "--in-place", "-n", "1p", "f"], "--in-place"),
    (["sed", "-n"], "without a script"),
    # options that write or run programs
    (["sort", "-o", "out", "f"], "`sort -o` writes"),
    (["sort", "--output=out", "f"], "--output=out"),
    (["sort", "--out=x", "f"], "`sort --out=x`"),
    (["sort", "-ro", "x", "f"], "`sort -ro`"),
    (["sort", "--compress-program=sh", "f"], "--compress-program"),
    (["sort", "-T", "/tmp", "f"], "`sort -T`"),
    (["uniq", "in.txt", "out.txt"], "`out.txt`"),
    (["base64", "-o", "out", "f"], "`base64 -o`"),
    (["file", "-C", "-m", "magic"], "`file -C`"),
    (["date", "-s", "2020-01-01"], "`date -s`"),
    (["tree", "-o", "out.html"], "`tree -o`"),
    # git beyond reading
    (["git", "-c", "core.pager=sh", "log"], "`git -c`"),
    (["git", "--exec-path=/tmp", "status"], "--exec-path"),
    (["git", "--git-dir=/x", "log"], "--git-dir"),
    (["git", "--work-tree=/x", "status"], "--work-tree"),
    (["git", "--config-env=core.pager=X", "log"], "--config-env"),
    (["git", "push"], "`git push`"),
    (["git", "commit", "-m", "x"], "`git commit`"),
    (["git", "checkout", "."], "`git checkout`"),
    (["git", "st"], "`git st`"),
    (["git", "log", "--output=f"], "`git log --output=f` writes"),
    (["git", "diff", "--out=f"], "--out=f"),
    (["git", "diff", "--ext-diff"], "--ext-diff"),
    (["git", "show", "--textconv", "HEAD:f"], "--textconv"),
    (["git", "show", "--textc", "HEAD:f"], "`git show --textc` runs text-conversion filters"),
    (["git", "branch", "new-feature"], "`git branch new-feature` would create"),
    (["git", "branch", "-d", "old"], "`git branch -d`"),
    (["git", "branch", "-m", "a", "b"], "`git branch -m`"),
    (["git", "branch", "--set-upstream-to=origin/x"], "--set-upstream-to"),
    (["git", "branch", "--contains", "-d", "x"], "-d"),
    (["git"], "without a subcommand"),
    (["git", "-C"], "`git -C`"),
    # git pointed at another repository, whose config (fsmonitor, diff.external) runs programs
    (["git", "-C", "../repo", "status"], "`git -C` can point git at another repository"),
    (["git", "-C", "/tmp/evil", "diff"], "`git -C`"),
    (["git", "--git-dir=/tmp/evil/.git", "log"], "`git --git-dir=/tmp/evil/.git`"),
    (["git", "--git-dir", "/tmp/evil/.git", "log"], "`git --git-dir`"),
    (["git", "--work-tree=/tmp/evil", "status"], "`git --work-tree=/tmp/evil`"),
    (["git", "-c", "core.fsmonitor=touch /tmp/x", "status"], "`git -c`"),
    (["git", "-ccore.pager=sh", "log"], "`git -ccore.pager=sh`"),
    (["git", "--config-env=core.pager=EVIL", "log"], "`git --config-env=core.pager=EVIL`"),
    (["git", "--exec-path=/tmp/evil", "status"], "`git --exec-path=/tmp/evil`"),
    (["git", "--namespace=x", "log"], "`git --namespace=x`"),
    (sh("git -C ../other log --oneline | head -n 3"), "in the script: `git -C`"),
    (sh("cd /tmp/evil && git status"), "in the script: `git` in another directory"),
    (sh("cd /tmp/evil; ls; git diff"), "`git` in another directory"),
    (sh("GIT_DIR=/tmp/evil/.git git status"), "assignment `GIT_DIR=/tmp/evil/.git`"),
    (sh("GIT_WORK_TREE=/tmp/evil git diff"), "assignment `GIT_WORK_TREE=/tmp/evil`"),
    (sh("GIT_CONFIG_GLOBAL=/tmp/evil.cfg git log -p"), "assignment `GIT_CONFIG_GLOBAL"),
    (sh("GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager GIT_CONFIG_VALUE_0=sh git log"), "assignment"),
    (sh("GIT_EXTERNAL_DIFF=/tmp/x git diff"), "assignment `GIT_EXTERNAL_DIFF=/tmp/x`"),
    (sh("GIT_EXEC_PATH=/tmp/x git status"), "assignment `GIT_EXEC_PATH=/tmp/x`"),
    (["env", "GIT_DIR=/tmp/evil/.git", "git", "status"], "`env` is not a known-safe command"),
    (["git", "log", "-p", "--ext-diff"], "`git log --ext-diff` runs an external diff program"),
    (["git", "show", "--ext-diff", "HEAD"], "--ext-diff"),
    (["git", "log", "-p", "--textconv"], "--textconv"),
    (["git", "diff", "--textconv"], "--textconv"),
    # shells that are not a plain `-c SCRIPT`
    (["bash", "script.sh"], "`bash` runs arbitrary code"),
    (["bash", "-lc", "ls", "extra"], "`bash -lc SCRIPT`"),
    (["bash", "-i"], "`bash`"),
    (["/tmp/bash", "-lc", "ls"], "`/tmp/bash`"),
    # scripts hiding a second command
    (sh("ls; rm -rf /tmp/x"), "`rm` is not a known-safe command"),
    (sh("ls\nrm x"), "`rm`"),
    (sh("ls && rm x"), "`rm`"),
    (sh("ls | xargs rm"), "`xargs`"),
    (sh("ls && " * 10_000 + "rm x"), "`rm`"),
    (sh("sh -c \"ls; rm x\""), "nested script: `rm`"),
    (sh("bash -lc 'rm x'"), "nested script: `rm`"),
    (sh("bash -lc \"bash -lc 'bash -lc ls'\""), "nested more than"),
    # substitutions and expansions
    (sh("cat $(whoami)"), "command substitution `$(whoami)`"),
    (sh("cat `whoami`"), "`whoami`"),
    (sh("cat a$(whoami)"), "`$(whoami)`"),
    (sh("echo $HOME"), "`$HOME`"),
    (sh("echo ${HOME}"), "`${HOME}`"),
    (sh('echo "$HOME"'), "`$HOME`"),
    (sh('echo "`id`"'), "`id`"),
    (sh("echo $((1+2))"), "arithmetic expansion"),
    (sh("diff <(ls a) <(ls b)"), "process substitution `<(ls a)`"),
    (sh("echo $'\\x41'"), "ANSI-C quoting"),
    (sh('echo $"x"'), "unquoted `$` starts an expansion"),
    (sh("find . -{delete,name}"), "brace `{`"),
    # redirections
    (sh("echo hi > f"), "redirection `> f` can write files"),
    (sh("echo hi >> f"), "`>> f`"),
    (sh("cat < f"), "`< f`"),
    (sh("ls &> out"), "`&> out`"),
    (sh("ls 2>&1 | head"), "`2>&1`"),
    (sh("ls>f"), "`>f`"),
    (sh("cat <<EOF\nhello\nEOF"), "here-document `<<EOF"),
    (sh("cat <<'EOF'\n$(x)\nEOF"), "here-document"),
    (sh("cat <<< hi"), "here-string `<<< hi`"),
    # structure
    (sh("ls && (rm x)"), "subshell `(rm x)`"),
    (sh("(ls)"), "subshell"),
    (sh("{ ls; }"), "command group"),
    (sh("if true; then ls; fi"), "control flow"),
    (sh("for f in a; do cat a; done"), "control flow"),
    (sh("while true; do ls; done"), "control flow"),
    (sh("f() { ls; }; f"), "function definition"),
    (sh("A=1 ls"), "assignment `A=1`"),
    (sh("export A=1"), "`export A=1`"),
    (sh("ls &"), "background operator `&`"),
    (sh("ls & rm x"), "`&`"),
    (sh("ls |& wc"), "`|&`"),
    (sh("! ls"), "negation"),
    (sh("[[ -f x ]]"), "test expression"),
    (sh("ls # comment"), "comment `# comment`"),
    # globs where they can change the program or its options
    (sh("l? x"), "glob `l?` in the command position"),
    (sh("*"), "glob `*`"),
    (sh("rg x *"), "unquoted glob `*`"),
    (sh("find . -name *"), "unquoted glob `*`"),
    (sh("sort *"), "unquoted glob `*`"),
    (sh("uniq a*"), "glob"),
    (sh("git -C * status"), "unquoted glob `*`"),
    (sh("sed -n /a*/p notes.txt"), "unquoted glob `/a*/p`"),
    (["zsh", "-lc", "rg x ^notes"], "unquoted glob `^notes`"),
    # words that the shell would split or join differently
    (sh("find . -dele\\\nte"), "`find -delete` deletes"),
    (sh("find . -dele'te'"), "`find -delete` deletes"),
    (sh("find . '-del'\\ete"), "`find -delete` deletes"),
    (sh("echo \\"), "not valid shell syntax"),
    (sh("ls\r\nrm x"), "U+000D"),
    # look-alike and invisible characters
    (sh("ls；rm x"), "`；`"),
    (sh("ls ｜ wc"), "`｜`"),
    (sh("ls ＆＆ rm x"), "`＆`"),
    (sh("echo hi ＞ f"), "`＞`"),
    (sh("ls\u00a0-la"), "U+00A0"),
    (sh("ls \u202ex"), "U+202E"),
    (sh("echo ‘hi’"), "`‘`"),
    (sh("ls\u037erm x"), "U+037E"),
    # malformed or unbounded scripts
    (sh("ls 'unterminated"), "not valid shell syntax"),
    (sh("ls &&"), "incomplete"),
    (sh("&& ls"), "not valid shell syntax"),
    (sh(""), "no commands"),
    (sh("ls\x00"), "NUL"),
    (sh("ls " + "x " * 40_000), "bytes"),
    (sh("(" * 200 + ")" * 200), "nests brackets 200 deep"),
    (sh("&&||;|" * 10_000), "not valid shell syntax"),
    (sh("${" * 30_000), "nests brackets"),
]


def _case_id(argv: list[str]) -> str:
    text = " ".join(argv) if argv[:2] != ["bash", "-lc"] else argv[2]
    return text if len(text) < 50 else text[:47] + "..."


@pytest.mark.parametrize(("argv", "because"), SAFE, ids=[_case_id(a) for a, _ in SAFE])
def test_known_safe_commands_run_unasked(argv: list[str], because: str) -> None:
    verdict = classify(argv)

    assert verdict.safe, verdict.reason
    assert because in verdict.reason


@pytest.mark.parametrize(("argv", "because"), UNSAFE, ids=[_case_id(a) for a, _ in UNSAFE])
def test_dangerous_look_alikes_are_refused_with_the_offending_part(argv: list[str], because: str) -> None:
    verdict = classify(argv)

    assert not verdict.safe
    assert because in verdict.reason


def test_the_table_is_big_and_half_dangerous() -> None:
    assert len(SAFE) + len(UNSAFE) >= 150
    assert len(UNSAFE) >= len(SAFE)


def test_plain_scripts_split_into_the_argv_the_shell_runs() -> None:
    script = "ls -la && grep -n 'a b' \"c\\\"d\" e\\ f | wc -l\ngit status;pwd"

    assert parse_plain_script(script) == (
        ("ls", "-la"),
        ("grep", "-n", "a b", 'c"d', "e f"),
        ("wc", "-l"),
        ("git", "status"),
        ("pwd",),
    )


def test_a_newline_ends_a_command_even_where_the_grammar_runs_on() -> None:
    # tree-sitter-bash reads the quoted words after the newline as more arguments of `find`;
    # bash starts a new command there (found by the property test below).
    script = "'echo' '0' | 'find' '.' '-name' '*.py'\n'git' 'branch' '-a' && 'echo'"
    assert parse_plain_script(script) == (
        ("echo", "0"), ("find", ".", "-name", "*.py"), ("git", "branch", "-a"), ("echo",)
    )
    assert classify(["bash", "-lc", script]).safe
    assert not classify(["bash", "-lc", "'find' '.' '-name' '*.py'\n'rm' '-rf' 'x'"]).safe


def test_parse_plain_script_explains_what_is_not_plain() -> None:
    with pytest.raises(NotPlainScript, match=r"redirection `> out` can write files"):
        parse_plain_script("ls > out")


def test_trusted_commands_from_config_are_safe_with_any_arguments() -> None:
    rules = SafeCommandRules.builtin(["pytest", "cargo check"])

    assert classify(["pytest", "-x", "tests/"], rules) == Verdict(
        True, "`pytest` is trusted by approval.trusted_commands"
    )
    assert classify(["cargo", "check", "--all"], rules).safe
    assert not classify(["cargo", "build"], rules).safe
    assert classify(sh("pytest -q && git diff"), rules).safe
    assert classify(sh("pytest > log"), rules) == Verdict(False, "redirection `> log` can write files")
    assert not classify(["pytest"]).safe  # the built-in table alone does not trust it


def test_trusted_entries_use_shell_words_and_bad_ones_name_their_position() -> None:
    rules = SafeCommandRules.builtin(["make 'test fast'"])
    assert classify(["make", "test fast", "-j2"], rules).safe

    with pytest.raises(ConfigError, match=r"approval\.trusted_commands\[1\]: empty entry"):
        SafeCommandRules.builtin(["pytest", "  "])
    with pytest.raises(ConfigError, match=r"approval\.trusted_commands\[0\]: No closing quotation"):
        SafeCommandRules.builtin(["make 'oops"])


def test_session_approvals_cover_prefixes_and_exact_commands_inside_scripts() -> None:
    prefixes = [["npm", "test"]]
    commands = [["make", "lint"]]

    assert classify(["npm", "test", "--", "-u"], session_prefixes=prefixes).reason == (
        "`npm test` commands were approved for this session"
    )
    assert classify(["make", "lint"], session_commands=commands).safe
    assert not classify(["make", "lint", "fix"], session_commands=commands).safe
    assert classify(sh("npm test && make lint && ls"), session_prefixes=prefixes, session_commands=commands).safe
    verdict = classify(sh("npm test && npm publish"), session_prefixes=prefixes)
    assert verdict == Verdict(False, "in the script: `npm` is not a known-safe command")


def test_with_session_extends_rules_without_changing_the_original() -> None:
    base = SafeCommandRules.builtin()
    session = base.with_session(prefixes=[["pytest"]])

    assert classify(["pytest"], session).safe
    assert not classify(["pytest"], base).safe


def test_an_exact_approval_does_not_match_a_glob_the_shell_would_expand() -> None:
    assert classify(["make", "*"], session_commands=[["make", "*"]]).safe  # argv words are literal
    assert not classify(sh("make *"), session_commands=[["make", "*"]]).safe


def test_matches_prefix_for_plain_argv_and_scripts() -> None:
    assert matches_prefix(["pytest", "-x"], ["pytest"])
    assert matches_prefix(["/usr/bin/pytest", "-x"], ["pytest"])
    assert not matches_prefix(["pytest-watch"], ["pytest"])
    assert not matches_prefix(["pytest"], [])
    assert matches_prefix(sh("pytest -x && ls | wc -l"), ["pytest"])
    assert not matches_prefix(sh("pytest -x && rm -rf build"), ["pytest"])
    assert not matches_prefix(sh("ls && pwd"), ["pytest"])
    assert not matches_prefix(sh("pytest > out.txt"), ["pytest"])


def test_a_tiny_parse_deadline_makes_a_long_script_unsafe() -> None:
    rules = SafeCommandRules(commands=SafeCommandRules.builtin().commands, parse_deadline_seconds=0.0)

    verdict = classify(sh("ls -la && " * 5000 + "pwd"), rules)

    assert verdict == Verdict(False, "parsing the script took longer than 0 s")


def test_without_tree_sitter_scripts_are_unsafe_with_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tree_sitter", None)

    verdict = classify(sh("ls"))

    assert not verdict.safe
    assert "install the `tree-sitter` and `tree-sitter-bash` packages" in verdict.reason
    assert classify(["ls"]).safe  # plain argv needs no parser


def test_importing_the_classifier_does_not_import_the_parser() -> None:
    probe = "import sys, codex.approval.safe_commands; print('tree_sitter' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)

    assert result.stdout.strip() == "False"


def test_measure_classifying_a_10kb_script(capsys: pytest.CaptureFixture[str]) -> None:
    """Measured, never asserted: the number is printed for the report (`pytest -s`)."""
    script = " && ".join(["ls -la src", "git log --oneline -n 5", "grep -rn 'foo bar' src", "wc -l a.py"] * 130)
    assert 9_000 < len(script) < 11_000
    classify(sh(script))  # warm the lazy import
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        verdict = classify(sh(script))
        timings.append(time.perf_counter() - start)
    assert verdict.safe
    with capsys.disabled():
        print(f"\nclassify of a {len(script)}-byte script: median {statistics.median(timings) * 1000:.1f} ms")


def test_git_in_another_working_directory_is_not_known_safe() -> None:
    # The shell tool's `workdir` runs the command elsewhere: git would read that repository.
    assert classify(["git", "status"]).safe
    elsewhere = classify(["git", "status"], elsewhere=True)
    assert not elsewhere.safe and "another directory" in elsewhere.reason
    assert not classify(sh("ls && git log"), elsewhere=True).safe
    assert classify(["ls", "-la"], elsewhere=True).safe


def test_matches_prefix_does_not_cover_git_after_cd() -> None:
    assert matches_prefix(sh("pytest -q && git status"), ["pytest"])
    assert not matches_prefix(sh("cd /tmp/evil && pytest -q && git status"), ["pytest"])


@pytest.mark.parametrize(
    "argv",
    [
        ["git", "-C", "/tmp/evil", "status"],
        ["git", "--git-dir=/tmp/evil/.git", "log"],
        ["bash", "-lc", "GIT_DIR=/tmp/evil/.git git status"],
        ["bash", "-lc", "cd /tmp/evil && git diff"],
    ],
)
def test_debug_safe_command_exits_non_zero_for_git_elsewhere(argv: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "codex", "debug", "safe-command", "--", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0, completed.stdout
    assert completed.stdout.startswith("not safe: ")


@pytest.mark.skipif(sys.platform != "linux", reason="the engine harness confines with the Linux backend")
@pytest.mark.parametrize("how", ["-C", "cd", "workdir"])
def test_another_repositorys_fsmonitor_does_not_run_unasked(lab: Lab, tmp_path: Path, how: str) -> None:
    # The attack as reported: `untrusted` + `danger-full-access` (nothing is sandboxed), and a
    # repository whose config names a program that `git status` runs. Known-safe would run it
    # without a question; now the person is asked (and here says no).
    marker = tmp_path / "payload-ran"
    payload = tmp_path / "payload.sh"
    payload.write_text(f"#!/bin/sh\ntouch {marker}\n")
    payload.chmod(0o755)
    evil = tmp_path / "evil"
    subprocess.run(["git", "init", "-q", str(evil)], check=True, timeout=60)
    subprocess.run(["git", "-C", str(evil), "config", "core.fsmonitor", str(payload)], check=True, timeout=60)
    arguments: dict[str, Any] = {
        "-C": {"command": ["git", "-C", str(evil), "status"]},
        "cd": {"command": ["bash", "-lc", f"cd {evil} && git status"]},
        "workdir": {"command": ["git", "status"], "workdir": str(evil)},
    }[how]
    out = lab.run([Call("shell", arguments, "c1")], policy="untrusted", sandbox="danger-full-access")
    assert [q.command for q in out.asked] == [arguments["command"]]
    assert not marker.exists()
    assert out.commands == []
