"""Recognising apply_patch run through a shell, so the engine can apply the patch itself."""

from __future__ import annotations

import pytest

from codex.tools.apply_patch import ShellPatch, extract_patch_from_shell, parse_patch

PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+$HOME stays literal\n*** End Patch"


def test_direct_invocation() -> None:
    assert extract_patch_from_shell(["apply_patch", PATCH]) == ShellPatch(PATCH, None)
    assert extract_patch_from_shell(["applypatch", PATCH]) == ShellPatch(PATCH, None)
    assert extract_patch_from_shell(["/usr/local/bin/apply_patch", PATCH]) == ShellPatch(PATCH, None)


def test_direct_invocation_with_a_literal_heredoc_argument() -> None:
    # Some models put heredoc syntax into an argv that no shell will ever interpret.
    found = extract_patch_from_shell(["apply_patch", f"<<'EOF'\n{PATCH}\nEOF\n"])
    assert found == ShellPatch(PATCH, None)


@pytest.mark.parametrize("shell", ["bash", "/bin/bash", "sh", "zsh", "/usr/bin/zsh"])
@pytest.mark.parametrize("flags", [["-lc"], ["-c"], ["-l", "-c"]])
def test_heredoc_through_each_shell(shell: str, flags: list[str]) -> None:
    argv = [shell, *flags, f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"]
    assert extract_patch_from_shell(argv) == ShellPatch(PATCH, None)


@pytest.mark.parametrize("opener", ["<<'EOF'", '<<"EOF"', "<<EOF", "<< EOF", "<<\\EOF", "<<'PATCH_END'"])
def test_delimiter_spellings(opener: str) -> None:
    delimiter = "PATCH_END" if "PATCH_END" in opener else "EOF"
    script = f"applypatch {opener}\n{PATCH}\n{delimiter}"
    assert extract_patch_from_shell(["bash", "-lc", script]) == ShellPatch(PATCH, None)


@pytest.mark.parametrize(
    ("prefix", "workdir"),
    [
        ("cd src && ", "src"),
        ("cd 'my dir' && ", "my dir"),
        ('cd "/abs/path" &&', "/abs/path"),
        ("  cd ../x&&", "../x"),
    ],
)
def test_cd_prefix_returns_the_directory(prefix: str, workdir: str) -> None:
    script = f"{prefix}apply_patch <<'EOF'\n{PATCH}\nEOF\n"
    assert extract_patch_from_shell(["bash", "-lc", script]) == ShellPatch(PATCH, workdir)


def test_dash_heredoc_strips_leading_tabs_like_bash() -> None:
    body = "\n".join("\t" + line for line in PATCH.split("\n"))
    found = extract_patch_from_shell(["bash", "-c", f"apply_patch <<-EOF\n{body}\n\tEOF\n"])
    assert found == ShellPatch(PATCH, None)


def test_missing_closing_delimiter_ends_at_end_of_script() -> None:
    found = extract_patch_from_shell(["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\n"])
    assert found == ShellPatch(PATCH, None)


def test_single_quoted_argument_in_a_script() -> None:
    found = extract_patch_from_shell(["bash", "-lc", f"apply_patch '{PATCH}'"])
    assert found == ShellPatch(PATCH, None)


def test_extracted_patch_parses() -> None:
    found = extract_patch_from_shell(["zsh", "-lc", f"cd app && apply_patch <<'EOF'\n{PATCH}\nEOF"])
    assert found is not None
    assert parse_patch(found.patch)[0].path == "hello.txt"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["ls", "-la"],
        ["apply_patch"],
        ["apply_patch", PATCH, "extra"],
        ["bash", "-lc", "echo hi"],
        ["bash", "-lc", f"echo start; apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\necho done\n"],
        ["bash", "-lc", f"cd a b && apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-lc", f"cd src || apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-lc", f"cd $(pwd) && apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-x", f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["python", "-c", f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-lc", f'apply_patch "{PATCH}"'],
        ["bash", "-lc", "apply_patch 'not a patch'"],
        ["bash", "script.sh", "apply_patch"],
        ["bash", "-lc", f"apply_patch\n<<'EOF'\n{PATCH}\nEOF\n"],
        ["bash", "-lc", f"apply_patch <<'EOF' | tee log\n{PATCH}\nEOF\n"],
    ],
)
def test_other_commands_are_not_intercepted(argv: list[str]) -> None:
    assert extract_patch_from_shell(argv) is None
