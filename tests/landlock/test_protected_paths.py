"""Which paths the policy protects, found once at session start (every backend and apply_patch).

Pure filesystem logic, so these run on every platform; the Landlock tests beside them show the
same paths staying read-only for real commands.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from codex.sandbox import SandboxMode, SandboxPolicy, find_protected_paths, git_pointer_targets


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path.resolve()


def fake_repo(path: Path) -> Path:
    """A directory with the layout of a repository's ``.git`` (enough for path discovery)."""
    (path / ".git" / "hooks").mkdir(parents=True)
    (path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return path


def test_the_repository_around_cwd_is_found_by_walking_up(base: Path) -> None:
    repo = fake_repo(base / "repo")
    (repo / ".codex").mkdir()
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    found = find_protected_paths(deep, [base], (".git", ".codex"))
    assert found[:2] == (repo / ".git", repo / ".codex")


def test_a_git_file_protects_itself_its_gitdir_and_the_common_dir(base: Path) -> None:
    main = fake_repo(base / "main")
    gitdir = main / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n")
    worktree = base / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {gitdir}\n")
    assert git_pointer_targets(worktree / ".git") == [gitdir, gitdir / "../.."]
    found = find_protected_paths(worktree, [worktree], (".git",), max_directories=0)
    assert found == (worktree / ".git",)  # the targets lie outside this root: read-only anyway
    found = find_protected_paths(worktree, [base], (".git",), max_directories=0)
    assert found == (worktree / ".git", gitdir, main / ".git")


def test_a_relative_gitdir_is_read_relative_to_the_git_file(base: Path) -> None:
    (base / "super" / ".git" / "modules" / "lib").mkdir(parents=True)
    (base / "super" / "lib").mkdir()
    (base / "super" / "lib" / ".git").write_text("gitdir: ../.git/modules/lib\n")
    found = find_protected_paths(base / "super" / "lib", [base], (".git",), max_directories=0)
    assert base / "super" / ".git" / "modules" / "lib" in found
    assert base / "super" / ".git" in found  # the superproject around the submodule


def test_nested_repositories_below_the_roots_are_found_within_the_bound(base: Path) -> None:
    workspace = base / "ws"
    nested = fake_repo(workspace / "vendor" / "deep" / "lib")
    (workspace / "pkg" / ".codex").mkdir(parents=True)
    found = find_protected_paths(workspace, [workspace], (".git", ".codex"))
    assert set(found) == {nested / ".git", workspace / "pkg" / ".codex"}
    # Two directories visited (ws, then pkg or vendor): the deep repository is beyond the bound.
    bounded = find_protected_paths(workspace, [workspace], (".git", ".codex"), max_directories=2)
    assert nested / ".git" not in bounded


def test_the_scan_does_not_follow_symlinks_out_of_the_roots(base: Path) -> None:
    outside = fake_repo(base / "outside")
    workspace = base / "ws"
    workspace.mkdir()
    (workspace / "link").symlink_to(outside)
    assert find_protected_paths(workspace, [workspace], (".git",)) == ()


def test_state_dirs_count_only_strictly_inside_a_root(base: Path) -> None:
    home = base / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".cache" / "codex-py").mkdir(parents=True)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    state = [home / ".codex", home / ".cache" / "codex-py", elsewhere]
    found = find_protected_paths(home, [home], (), state, max_directories=0)
    assert found == (home / ".codex", home / ".cache" / "codex-py")


def test_build_collects_everything_and_allow_git_writes_drops_only_git(base: Path) -> None:
    repo = fake_repo(base / "repo")
    sub = repo / "sub"
    sub.mkdir()
    state = base / "repo" / "state"
    state.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=sub, writable_roots=[repo], state_dirs=[state])
    assert repo / ".git" in policy.protected_paths and state in policy.protected_paths
    opened = SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE, cwd=sub, writable_roots=[repo], state_dirs=[state], allow_git_writes=True
    )
    assert repo / ".git" not in opened.protected_paths and state in opened.protected_paths
    for mode in (SandboxMode.READ_ONLY, SandboxMode.DANGER_FULL_ACCESS):
        assert SandboxPolicy.build(mode, cwd=sub).protected_paths == ()


def test_apply_patch_may_not_write_protected_paths_even_before_they_exist(base: Path) -> None:
    repo = fake_repo(base / "repo")
    sub = repo / "sub"
    sub.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=sub, writable_roots=[repo])
    assert policy.allows_write(sub / "file.txt")
    assert not policy.allows_write(repo / ".git" / "hooks" / "pre-commit")
    assert not policy.allows_write(sub / ".git" / "config")  # no sub/.git yet
    assert not policy.allows_write(sub / ".codex" / "config.toml")
    assert repo / ".git" in policy.read_only_subpaths


def test_a_root_inside_a_protected_path_stays_writable_and_the_rest_does_not(base: Path) -> None:
    # `cd ~/.codex/prompts && codex ...` with HOME writable: the workspace chosen inside
    # CODEX_HOME is writable, CODEX_HOME's config is not; started in ~/.codex itself, nothing is.
    home = base / "home"
    codex_home = home / ".codex"
    (codex_home / "prompts").mkdir(parents=True)
    policy = SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE, cwd=codex_home / "prompts", writable_roots=[home],
        exclude_slash_tmp=True, exclude_tmpdir_env_var=True, state_dirs=[codex_home],
    )  # fmt: skip
    assert policy.protected_paths == (codex_home,)
    assert policy.allows_write(codex_home / "prompts" / "new.md")
    assert not policy.allows_write(codex_home / "config.toml")
    assert not policy.allows_write(codex_home / "prompts" / ".codex" / "x")  # top of the inner root
    at_home = SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE, cwd=codex_home, exclude_slash_tmp=True, exclude_tmpdir_env_var=True,
        state_dirs=[codex_home],
    )  # fmt: skip
    assert at_home.protected_paths == (codex_home,)
    assert not at_home.allows_write(codex_home / "config.toml")


def test_a_fifo_where_a_git_file_belongs_does_not_hang_the_session_start(base: Path) -> None:
    # A command of an earlier session could leave FIFOs named .git or commondir in the workspace.
    workspace = base / "ws"
    (workspace / "a").mkdir(parents=True)
    os.mkfifo(workspace / "a" / ".git")
    (workspace / "b" / ".git").mkdir(parents=True)
    os.mkfifo(workspace / "b" / ".git" / "commondir")
    result: list[tuple[Path, ...]] = []
    worker = threading.Thread(target=lambda: result.append(find_protected_paths(workspace, [workspace], (".git",))))
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader so the test run itself can end
        for fifo in (workspace / "a" / ".git", workspace / "b" / ".git" / "commondir"):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=30)
        pytest.fail("find_protected_paths blocked on a FIFO")
    assert set(result[0]) == {workspace / "a" / ".git", workspace / "b" / ".git"}
