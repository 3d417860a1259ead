"""The generated SBPL profile: golden text, structure, parameters and what it would permit."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from codex_seatbelt.policy import generate_policy
from seatbelt_fixtures import Golden, Workspace
from seatbelt_sexpr import Node, SexprError, Str, is_allowed, parse, rule_filters, rule_operations

from codex.errors import SandboxError
from codex.sandbox import SandboxMode, SandboxPolicy

SCENARIOS: dict[str, Callable[[Workspace], SandboxPolicy]] = {
    "read_only": Workspace.read_only,
    "workspace_write_two_roots": Workspace.two_roots,
    "workspace_write_network": Workspace.with_network,
    "workspace_write_repo_subdirectory": Workspace.repo_subdirectory,
}

# Every operation the generator may use. sandbox-exec rejects a whole profile over one unknown
# name, and that can only be seen on a Mac, so a typo must fail here first.
KNOWN_OPERATIONS = {
    "default", "process-exec", "process-fork", "signal", "process-info*", "file-read*",
    "file-write*", "file-write-data", "file-ioctl", "user-preference-read", "pseudo-tty",
    "sysctl-read", "sysctl-write", "mach-host*", "mach-lookup", "ipc-posix-sem",
    "network-outbound", "network-inbound", "system-socket",
}  # fmt: skip
KNOWN_FILTERS = {
    "literal", "subpath", "regex", "param", "require-all", "require-not", "target",
    "sysctl-name", "sysctl-name-prefix", "global-name",
}  # fmt: skip
NETWORK_OPERATIONS = {"network-outbound", "network-inbound", "system-socket"}


def _rules(forms: list[Node]) -> list[list[Node]]:
    return [form for form in forms if isinstance(form, list) and form[0] in ("allow", "deny")]


def _params_used(node: Node) -> set[str]:
    if not isinstance(node, list):
        return set()
    if node and node[0] == "param" and isinstance(node[1], Str):
        return {node[1].value}
    found: set[str] = set()
    for child in node:
        found |= _params_used(child)
    return found


def _filter_heads(node: Node) -> set[str]:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        return set()
    heads = {node[0]}
    for child in node[1:]:
        heads |= _filter_heads(child)
    return heads


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_profile_matches_reviewed_golden_file(scenario: str, workspace: Workspace, golden: Golden) -> None:
    text, params = generate_policy(SCENARIOS[scenario](workspace))
    golden.check(f"{scenario}.sbpl", text)
    golden.check_params(f"{scenario}.params.json", params, workspace.base)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_profile_is_well_formed_sbpl(scenario: str, workspace: Workspace) -> None:
    policy = SCENARIOS[scenario](workspace)
    text, params = generate_policy(policy)
    forms = parse(text)
    assert forms[0] == ["version", "1"]
    assert forms[1] == ["deny", "default"], "the profile must be closed by default"
    rules = _rules(forms)
    assert len(rules) == len(forms) - 1, "every top-level form after (version 1) is a rule"
    assert [rule for rule in rules if rule[0] == "deny"] == [["deny", "default"]]
    for rule in rules:
        assert set(rule_operations(rule)) <= KNOWN_OPERATIONS, rule
        for filt in rule_filters(rule):
            assert _filter_heads(filt) <= KNOWN_FILTERS, filt
    used: set[str] = set()
    for form in forms:
        used |= _params_used(form)
    assert used == set(params), "every (param ...) has a -D value and every -D value is used"
    operations = {op for rule in rules for op in rule_operations(rule)}
    assert (operations & NETWORK_OPERATIONS == NETWORK_OPERATIONS) is policy.network_access


def test_reader_rejects_unbalanced_text() -> None:
    text, _ = generate_policy(SandboxPolicy(SandboxMode.READ_ONLY))
    with pytest.raises(SexprError, match="never closed"):
        parse(text + "(allow file-read*")
    with pytest.raises(SexprError, match="unexpected"):
        parse(text + ")")
    with pytest.raises(SexprError, match="unterminated"):
        parse('(allow file-read* (literal "/dev/null))')


def test_read_only_permits_reading_and_dev_null_but_no_file_writes(workspace: Workspace) -> None:
    text, params = generate_policy(workspace.read_only())
    forms = parse(text)
    assert params == {}
    target = str(workspace.project / "main.py")
    assert is_allowed(forms, params, "file-read-data", target)
    assert not is_allowed(forms, params, "file-write-data", target)
    assert not is_allowed(forms, params, "file-write-create", str(workspace.base / "new.txt"))
    assert is_allowed(forms, params, "file-write-data", "/dev/null")
    assert is_allowed(forms, params, "file-write-data", "/dev/ttys003")
    assert not is_allowed(forms, params, "network-outbound", "/var/run/mDNSResponder")


def test_parameters_name_roots_in_order_with_their_protected_paths(workspace: Workspace) -> None:
    _, params = generate_policy(workspace.two_roots())
    assert params == {
        "WRITABLE_ROOT_0": str(workspace.project),
        "WRITABLE_ROOT_0_RO_0": str(workspace.project / ".git"),
        "WRITABLE_ROOT_1": str(workspace.extra),
        "WRITABLE_ROOT_1_RO_0": str(workspace.extra / ".codex"),
    }


def test_root_without_protected_dirs_is_a_plain_subpath(workspace: Workspace) -> None:
    plain = workspace.base / "plain"
    plain.mkdir()
    text, params = generate_policy(SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (plain,)))
    assert params == {"WRITABLE_ROOT_0": str(plain)}
    assert '(subpath (param "WRITABLE_ROOT_0"))' in text
    assert "require-not" not in text


def test_symlinked_root_is_canonicalised(workspace: Workspace) -> None:
    # macOS keeps temporary directories behind /var -> /private/var; Seatbelt only ever sees the
    # resolved path, so the parameter must be resolved too or no write would ever match.
    link = workspace.base / "link-to-project"
    link.symlink_to(workspace.project)
    _, params = generate_policy(SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (link,)))
    assert params == {
        "WRITABLE_ROOT_0": str(workspace.project),
        "WRITABLE_ROOT_0_RO_0": str(workspace.project / ".git"),
    }


def test_root_listed_twice_through_a_symlink_appears_once(workspace: Workspace) -> None:
    link = workspace.base / "alias"
    link.symlink_to(workspace.project)
    policy = SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (workspace.project, link))
    _, params = generate_policy(policy)
    assert [key for key in params if not key.count("_RO_")] == ["WRITABLE_ROOT_0"]


def test_symlinked_git_dir_protects_link_and_target(workspace: Workspace) -> None:
    # A worktree-style layout where .git points elsewhere inside the same root.
    root = workspace.base / "repo"
    real_git = root / "storage" / "gitdir"
    real_git.mkdir(parents=True)
    (root / ".git").symlink_to(real_git)
    text, params = generate_policy(SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (root,)))
    forms = parse(text)
    assert set(params.values()) == {str(root), str(root / ".git"), str(real_git)}
    assert not is_allowed(forms, params, "file-write-data", str(real_git / "hooks" / "pre-commit"))
    assert not is_allowed(forms, params, "file-write-unlink", str(root / ".git"))
    assert is_allowed(forms, params, "file-write-create", str(root / "storage" / "notes.txt"))


def test_write_decisions_agree_with_the_core_policy(workspace: Workspace) -> None:
    # The project nested inside another writable root: the outer root must not re-open the
    # inner root's .git.
    policy = SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (workspace.project, workspace.base))
    text, params = generate_policy(policy)
    forms = parse(text)
    candidates = [
        workspace.project,
        workspace.project / "main.py",
        workspace.project / "src" / "new.py",
        workspace.project / ".git",
        workspace.project / ".git" / "config",
        workspace.project / ".git" / "hooks" / "pre-commit",
        workspace.project / ".gitignore",
        workspace.extra / ".codex" / "config.toml",
        workspace.extra / "notes.txt",
        workspace.base / "sibling.txt",
        workspace.base.parent / "outside.txt",
        Path("/etc/hosts"),
        Path("/usr/local/bin/tool"),
    ]
    for path in candidates:
        expected = policy.allows_write(path)
        for operation in ("file-write-data", "file-write-create", "file-write-unlink"):
            actual = is_allowed(forms, params, operation, str(path))
            assert actual is expected, f"{operation} {path}: profile {actual}, core {expected}"
    assert not is_allowed(forms, params, "file-write-data", str(workspace.project / ".git/config"))
    assert is_allowed(forms, params, "file-write-data", str(workspace.base / "sibling.txt"))


def test_protected_paths_found_at_session_start_are_read_only(workspace: Workspace) -> None:
    # Codex started in project/sub: the repository's .git lies above the cwd root, but inside
    # the writable base; so do a nested repository, a worktree's .git file and CODEX_HOME.
    policy = workspace.repo_subdirectory()
    forms = parse(generate_policy(policy)[0])
    params = generate_policy(policy)[1]
    denied = [
        workspace.project / ".git" / "hooks" / "pre-commit",
        workspace.project / ".git" / "config",
        workspace.project / "vendor" / "lib" / ".git" / "config",
        workspace.project / "wt" / ".git",
        workspace.project / ".git" / "worktrees" / "wt" / "config.worktree",
        workspace.base / "codex-home" / "config.toml",
        workspace.extra / ".codex" / "config.toml",
    ]
    allowed = [workspace.project / "sub" / "new.py", workspace.project / "vendor" / "lib" / "x.c"]
    for path in denied + allowed:
        for operation in ("file-write-data", "file-write-create", "file-write-unlink"):
            actual = is_allowed(forms, params, operation, str(path))
            assert actual is (path in allowed), f"{operation} {path}"
            assert policy.allows_write(path) is actual, f"core and profile disagree on {path}"


def test_a_workspace_inside_codex_home_is_writable_as_in_the_core(workspace: Workspace) -> None:
    home = workspace.base / "codex-home"
    (home / "prompts").mkdir(parents=True)
    policy = SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE,
        cwd=home / "prompts",
        writable_roots=[workspace.base],
        exclude_slash_tmp=True,
        exclude_tmpdir_env_var=True,
        state_dirs=[home],
    )
    text, params = generate_policy(policy)
    forms = parse(text)
    for path, expected in (
        (home / "config.toml", False),
        (home / "prompts" / "new.md", True),
        (workspace.base / "notes.txt", True),
    ):
        assert is_allowed(forms, params, "file-write-create", str(path)) is expected, path
        assert policy.allows_write(path) is expected, path


def test_network_rules_follow_the_policy_flag(workspace: Workspace) -> None:
    closed, _ = generate_policy(workspace.two_roots())
    opened, _ = generate_policy(workspace.with_network())
    for text, allowed in ((closed, False), (opened, True)):
        forms = parse(text)
        assert is_allowed(forms, {}, "network-outbound", "") is allowed
        assert is_allowed(forms, {}, "network-inbound", "") is allowed


def test_profile_text_holds_no_paths(workspace: Workspace) -> None:
    # Paths travel as -D parameters, so a quote or parenthesis in a directory name cannot
    # change the profile's meaning.
    odd = workspace.base / 'we"ird (dir)'
    odd.mkdir()
    text, params = generate_policy(SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (odd,)))
    assert str(workspace.base) not in text
    assert params["WRITABLE_ROOT_0"] == str(odd)
    parse(text)


def test_danger_full_access_is_refused_with_a_clear_error() -> None:
    policy = SandboxPolicy.build(SandboxMode.DANGER_FULL_ACCESS, cwd=Path(os.getcwd()))
    with pytest.raises(SandboxError, match="danger-full-access"):
        generate_policy(policy)
