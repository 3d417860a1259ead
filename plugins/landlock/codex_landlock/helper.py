"""Confine one command, then exec it: the process-side half of the ``landlock`` sandbox backend.

Run as ``python -I -S helper.py --policy JSON -- argv...``. ``-I`` drops this file's directory
from ``sys.path``, so the helper is one stdlib-only file. Layers, in order:

1. a private mount namespace (root: ``unshare(CLONE_NEWNS)``; otherwise a user namespace too)
   where every mount is read-only except clones of the writable roots, and the protected paths
   inside them (``.git``/``.codex`` anywhere the policy lists, codex's own state) are read-only
   bind mounts; this covers chmod, chown, utime and xattr, which Landlock does not;
2. ``no_new_privs`` and, when privileged, an emptied capability bounding/ambient/process set;
3. Landlock with the access rights masked to the kernel's ABI;
4. a seccomp BPF filter (network sockets, io_uring, TIOCSTI, set-id modes, user namespaces);
5. ``execvp`` of the command.

A setup failure prints one ``codex-sandbox:`` line on stderr and exits 126; the command never
ran. ``--probe`` prints what this machine lets the helper enforce, as JSON, and changes nothing
outside its own (throwaway) process.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

SETUP_FAILED = 126
COMMAND_NOT_FOUND = 127
# Set to 1 to get a warning on stderr for each layer the kernel would not give us.
VERBOSE_ENV = "CODEX_LANDLOCK_VERBOSE"

# Unified syscall numbers (x86_64 and aarch64 share everything numbered 424 and up).
SYS_IO_URING_SETUP, SYS_IO_URING_ENTER, SYS_IO_URING_REGISTER = 425, 426, 427
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_CLONE3, SYS_CLOSE_RANGE, SYS_OPENAT2 = 428, 429, 435, 436, 437
SYS_MOUNT_SETATTR = 442
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
SYS_FCHMODAT2 = 452

# Landlock filesystem rights (linux/landlock.h), the ABI that introduced each noted.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

FS_ABI1 = (1 << 13) - 1
FS_BY_ABI = {1: FS_ABI1, 2: FS_ABI1 | FS_REFER, 3: FS_ABI1 | FS_REFER | FS_TRUNCATE}
FS_ALL = FS_BY_ABI[3] | FS_IOCTL_DEV
# Rights the kernel accepts on a rule for a non-directory (anything else is EINVAL).
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
FS_READ_EXECUTE = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
# Everything but device creation (and device ioctls: no device can be made there anyway).
FS_WRITABLE_ROOT = (
    FS_READ_EXECUTE
    | FS_WRITE_FILE
    | FS_REMOVE_DIR
    | FS_REMOVE_FILE
    | FS_MAKE_DIR
    | FS_MAKE_REG
    | FS_MAKE_SOCK
    | FS_MAKE_FIFO
    | FS_MAKE_SYM
    | FS_REFER
    | FS_TRUNCATE
)
FS_DEVICE = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV
# Harmless character devices and the terminal family (ptys need open + ioctl to work at all).
# Anything else in /dev stays read-only, without device ioctls.
DEVICE_PATHS = (
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
)
PROTECTED_NAMES = (".git", ".codex")
# Control sockets of daemons that run commands on request, outside any sandbox: connecting to
# one is an escape, and Landlock (before a future ABI) does not check connect() on pathname
# sockets. The mount layer covers each with /dev/null. "{uid}" is the caller's uid; a directory
# entry means every socket directly inside it (tmux keeps one per server there).
MASKED_SOCKETS = (
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
    "/run/snapd.socket",
    "/run/systemd/private",
    "/run/dbus/system_bus_socket",
    "/run/user/{uid}/bus",
    "/run/user/{uid}/systemd/private",
    "/run/user/{uid}/docker.sock",
    "/run/user/{uid}/podman/podman.sock",
    "/tmp/tmux-{uid}/",
)

LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# Mount API (linux/mount.h).
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
OPEN_TREE_CLONE = 1
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY = 0x1

# prctl / capabilities / seccomp.
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAPABILITY_VERSION_3 = 0x20080522
SECCOMP_MODE_FILTER = 2
CLOSE_RANGE_CLOEXEC = 1 << 2

# Classic BPF opcodes (linux/filter.h).
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
EPERM = 1
ENOSYS = 38
AF_UNIX = 1
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
SETID_BITS = 0o6000
O_CREAT = 0o100
O_TMPFILE_BIT = 0o20000000  # __O_TMPFILE, same value on x86_64 and aarch64
X32_SYSCALL_BIT = 0x40000000
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little endian).
SECCOMP_DATA_NR = 0
SECCOMP_DATA_ARCH = 4


def seccomp_arg_low(index: int) -> int:
    """Offset of the low 32 bits of syscall argument ``index`` in ``struct seccomp_data``."""
    return 16 + 8 * index


class SetupError(Exception):
    """Confinement could not be set up; the command must not run."""


class MountLayerUnavailable(Exception):
    """The mount namespace exists but refuses the very first mount call; nothing changed yet."""


class Arch:
    """One architecture's audit id and the syscall numbers the seccomp filter inspects.

    ``mode_setters`` holds (syscall number, index of the mode argument, index of the open flags
    argument or -1). Plain classes, not NamedTuple: importing typing costs ~15 ms per command.
    """

    def __init__(
        self,
        audit: int,
        has_x32: bool,
        socket: int,
        ioctl: int,
        clone: int,
        unshare: int,
        mode_setters: tuple[tuple[int, int, int], ...],
    ) -> None:
        self.audit = audit
        self.has_x32 = has_x32
        self.socket = socket
        self.ioctl = ioctl
        self.clone = clone
        self.unshare = unshare
        self.mode_setters = mode_setters


ARCHES = {
    "x86_64": Arch(
        audit=0xC000003E,
        has_x32=True,
        socket=41,
        ioctl=16,
        clone=56,
        unshare=272,
        # chmod, fchmod, fchmodat, fchmodat2, creat, mknod, mknodat, open, openat
        mode_setters=(
            (90, 1, -1),
            (91, 1, -1),
            (268, 2, -1),
            (SYS_FCHMODAT2, 2, -1),
            (85, 1, -1),
            (133, 1, -1),
            (259, 2, -1),
            (2, 2, 1),
            (257, 3, 2),
        ),
    ),
    "aarch64": Arch(
        audit=0xC00000B7,
        has_x32=False,
        socket=198,
        ioctl=29,
        clone=220,
        unshare=97,
        # fchmod, fchmodat, fchmodat2, mknodat, openat
        mode_setters=((52, 1, -1), (53, 2, -1), (SYS_FCHMODAT2, 2, -1), (33, 2, -1), (56, 3, 2)),
    ),
}


class Policy:
    """The decoded ``--policy`` JSON."""

    def __init__(
        self,
        mode: str,
        writable_roots: tuple[str, ...],
        read_only_subpaths: tuple[str, ...],
        network: bool,
        cwd: str,
        require_mount_namespace: bool = False,
        protected_names: tuple[str, ...] = PROTECTED_NAMES,
        mount_namespace: bool = True,
        mask_sockets: tuple[str, ...] = (),
    ) -> None:
        self.mode = mode
        self.writable_roots = writable_roots
        self.read_only_subpaths = read_only_subpaths
        self.network = network
        self.cwd = cwd
        self.require_mount_namespace = require_mount_namespace
        self.protected_names = protected_names
        self.mount_namespace = mount_namespace
        self.mask_sockets = mask_sockets


# --- policy parsing -----------------------------------------------------------------------------
# json imports re (~10 ms per helper start); that is paid only on the per-command path
# (sandbox_fork_server = false), and a parser of our own over json's private scanner is not.


def parse_json(text: str) -> object:
    """Parse the JSON of a policy or a fork-server message."""
    import json

    value: object = json.loads(text)
    return value


def dump_json(value: object, *, sort_keys: bool = False) -> str:
    """Compact JSON text of a policy or a fork-server message."""
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)


def decode_policy(text: str) -> Policy:
    """Validate the ``--policy`` JSON into a ``Policy``; raise SetupError saying what is wrong."""
    try:
        raw = parse_json(text)
    except ValueError as error:
        raise SetupError(f"--policy is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise SetupError("--policy must be a JSON object")
    mode = raw.get("mode")
    if mode not in ("read-only", "workspace-write"):
        raise SetupError(f"--policy mode must be read-only or workspace-write, got {mode!r}")
    cwd = raw.get("cwd", os.getcwd())
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise SetupError(f"--policy cwd must be an absolute path, got {cwd!r}")

    def paths(key: str, default: object = ()) -> tuple[str, ...]:
        value = raw.get(key, default)
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
            raise SetupError(f"--policy {key} must be a list of strings")
        return tuple(value)

    flags = {}
    for key, default in (("network", False), ("require_mount_namespace", False), ("mount_namespace", True)):
        flag = raw.get(key, default)
        if not isinstance(flag, bool):
            raise SetupError(f"--policy {key} must be true or false, got {flag!r}")
        flags[key] = flag
    roots = paths("writable_roots") if mode == "workspace-write" else ()
    return Policy(
        mode=mode,
        writable_roots=roots,
        read_only_subpaths=paths("read_only_subpaths"),
        network=flags["network"],
        cwd=cwd,
        require_mount_namespace=flags["require_mount_namespace"],
        protected_names=paths("protected_names", PROTECTED_NAMES),
        mount_namespace=flags["mount_namespace"],
        mask_sockets=paths("mask_sockets"),
    )


def resolve_existing(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Absolute, symlink-free, existing, de-duplicated paths, in the order given."""
    found: list[str] = []
    for path in paths:
        if not path.startswith("/"):
            continue
        real = os.path.realpath(path)
        if real not in found and os.path.lexists(real):
            found.append(real)
    return found


def outermost(paths: list[str]) -> list[str]:
    """Drop every path that lies inside another one of ``paths``."""
    return [p for p in paths if not any(_inside(p, other) for other in paths if other != p)]


def _inside(path: str, parent: str) -> bool:
    return parent == "/" or path.startswith(parent.rstrip("/") + "/")


def protected_subpaths(policy: Policy, roots: list[str]) -> list[str]:
    """The read-only subpaths given plus the protected names that now exist in each root.

    Shallowest first, so a path nested in another (a worktree's git directory inside the main
    ``.git``) is mounted after, and on top of, the one around it.
    """
    candidates = list(policy.read_only_subpaths)
    for root in roots:
        candidates.extend(os.path.join(root, name) for name in policy.protected_names)
    # A protected path that is a root (codex started in ~/.codex) makes that root read-only: its
    # files would steer codex afterwards. A root inside one is carved back (remount_read_only).
    every_root = resolve_existing(policy.writable_roots)
    found = [p for p in resolve_existing(candidates) if any(_inside(p, r) for r in roots) or p in every_root]
    return sorted(found, key=lambda path: path.count("/"))


def pinned_ancestors(protected: list[str], roots: list[str]) -> list[str]:
    """The directories between each writable root and each protected path, shallowest first.

    Each becomes a mount point (bound onto itself, still writable), and a mount point cannot be
    renamed or removed: otherwise a command could move ``lib`` (with ``lib/.git``) to ``moved``,
    where the next command, which protects ``lib/.git`` by path, would find it writable.
    """
    pinned: list[str] = []
    for path in protected:
        root = max((r for r in roots if _inside(path, r)), key=len, default="")
        parent = os.path.dirname(path)
        while root and parent != root and _inside(parent, root):
            if parent not in pinned:
                pinned.append(parent)
            parent = os.path.dirname(parent)
    return sorted(pinned, key=lambda path: path.count("/"))


def sockets_to_mask(extra: tuple[str, ...], uid: int) -> list[str]:
    """The daemon sockets (``MASKED_SOCKETS`` plus ``extra``) that exist here, resolved."""
    candidates: list[str] = []
    for entry in (*MASKED_SOCKETS, *extra):
        path = entry.replace("{uid}", str(uid))
        if path.endswith("/"):
            try:
                candidates.extend(os.path.join(path, name) for name in sorted(os.listdir(path)))
            except OSError:
                continue
        else:
            candidates.append(path)
    found = []
    for path in resolve_existing(candidates):
        try:
            if os.lstat(path).st_mode & 0o170000 == 0o140000:  # S_IFSOCK
                found.append(path)
        except OSError:
            continue
    return found


# --- syscalls -----------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _os_error(what: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}")


def _convert(arg: int | bytes | ctypes.Array[ctypes.c_char] | None) -> object:
    if isinstance(arg, int):
        return ctypes.c_long(arg)
    return arg


def syscall(nr: int, *args: int | bytes | ctypes.Array[ctypes.c_char] | None) -> int:
    """Call syscall ``nr``; raise OSError (with errno) on failure."""
    result: int = _libc.syscall(ctypes.c_long(nr), *[_convert(a) for a in args])
    if result == -1:
        raise _os_error(f"syscall {nr}")
    return result


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    """prctl(2) with unsigned long arguments; raise OSError on failure."""
    zero = ctypes.c_ulong(0)
    result: int = _libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), zero, zero)
    if result == -1:
        raise _os_error(f"prctl({option})")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is absent or disabled."""
    try:
        return syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    except OSError:
        return 0


# --- layer 1: mount namespace -------------------------------------------------------------------


def enter_mount_namespace() -> tuple[str, str]:
    """Unshare a mount namespace; return (how, "") or ("", why not).

    Root gets a plain mount namespace; anyone else needs a user namespace to own it, mapping
    their own uid and gid only, so files keep their owners.
    """
    if _libc.unshare(CLONE_NEWNS) == 0:
        return "mount namespace", ""
    first = os.strerror(ctypes.get_errno())
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWNS | CLONE_NEWUSER) != 0:
        second = os.strerror(ctypes.get_errno())
        return "", f"unshare(CLONE_NEWNS): {first}; with CLONE_NEWUSER: {second}"
    try:
        maps = (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1"))
        for name, line in maps:
            fd = os.open(f"/proc/self/{name}", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
    except OSError as error:
        # e.g. Ubuntu's apparmor_restrict_unprivileged_userns: the namespace exists but grants
        # nothing. Nothing has changed in the filesystem view, so Landlock alone can follow.
        return "", f"the new user namespace has no privileges here (mapping ids: {error.strerror})"
    return "user+mount namespace", ""


def make_private() -> None:
    """``mount --make-rprivate /``, so nothing done in this namespace reaches the host."""
    if _libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) != 0:
        raise MountLayerUnavailable(f"mount --make-rprivate /: {os.strerror(ctypes.get_errno())}")


def _open_tree_clone(path: str) -> int:
    return syscall(SYS_OPEN_TREE, AT_FDCWD, os.fsencode(path), OPEN_TREE_CLONE | AT_RECURSIVE | os.O_CLOEXEC)


def _set_read_only(dirfd: int, path: str, flags: int) -> None:
    attr = struct.pack("=QQQQ", MOUNT_ATTR_RDONLY, 0, 0, 0)
    syscall(SYS_MOUNT_SETATTR, dirfd, os.fsencode(path), flags | AT_RECURSIVE, attr, len(attr))


def _attach(tree: int, target: str) -> None:
    syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, os.fsencode(target), MOVE_MOUNT_F_EMPTY_PATH)


def _mount_over_itself(path: str, read_only: bool) -> None:
    """Bind ``path`` onto itself (read-only if asked); a path that vanished meanwhile is skipped.

    Another process may remove it between the policy's listing and now (a shared /tmp): what is
    gone holds nothing to protect, and whatever a command later creates there is its own.
    """
    try:
        tree = _open_tree_clone(path)
    except FileNotFoundError:
        return
    try:
        if read_only:
            _set_read_only(tree, "", AT_EMPTY_PATH)
        _attach(tree, path)
    except FileNotFoundError:
        pass
    finally:
        os.close(tree)


def remount_read_only(
    writable_roots: list[str],
    read_only_subpaths: list[str],
    masked_sockets: tuple[str, ...] | list[str] = (),
    inner_roots: list[str] | None = None,
) -> None:
    """Inside a fresh mount namespace: everything read-only but the roots, minus the subpaths.

    The roots are cloned (recursively, keeping each submount's own flags, so a mount the host
    has read-only stays so) before the whole tree goes read-only, then the clones are attached
    on top of their old places. The protected subpaths are then cloned from the writable view,
    made read-only and attached over themselves (after pinning the directories that lead to them,
    see ``pinned_ancestors``). A root among ``inner_roots`` that lies inside a protected path
    (codex started in ``~/.codex/prompts``) is cloned first and attached back on top, with its
    own protected paths protected again. Last, /dev/null is bound over each masked socket.
    """
    make_private()
    step = ""
    carved = sorted(
        (r for r in inner_roots or () if any(_inside(r, p) for p in read_only_subpaths)), key=lambda r: r.count("/")
    )
    try:
        carved_clones = []
        for root in carved:
            step = f"cloning writable root {root}"
            carved_clones.append((root, _open_tree_clone(root)))
        if "/" not in writable_roots:
            clones = []
            for root in writable_roots:
                step = f"cloning writable root {root}"
                clones.append((root, _open_tree_clone(root)))
            step = "remounting / read-only"
            _set_read_only(AT_FDCWD, "/", 0)
            for root, tree in clones:
                step = f"attaching writable root {root}"
                _attach(tree, root)
                os.close(tree)
        for directory in pinned_ancestors(read_only_subpaths, writable_roots):
            step = f"pinning {directory}"
            _mount_over_itself(directory, read_only=False)
        for sub in read_only_subpaths:
            step = f"protecting {sub}"
            _mount_over_itself(sub, read_only=True)
        for root, tree in carved_clones:
            step = f"attaching writable root {root} inside a protected path"
            _attach(tree, root)
            os.close(tree)
        inner = [sub for sub in read_only_subpaths if any(_inside(sub, root) for root in carved)]
        for directory in pinned_ancestors(inner, carved):
            step = f"pinning {directory}"
            _mount_over_itself(directory, read_only=False)
        for sub in inner:
            step = f"protecting {sub}"
            _mount_over_itself(sub, read_only=True)
        for socket_path in masked_sockets:
            step = f"masking {socket_path}"
            if _libc.mount(b"/dev/null", os.fsencode(socket_path), None, ctypes.c_ulong(MS_BIND), None) != 0:
                raise _os_error("mount --bind /dev/null")
    except OSError as error:
        raise SetupError(f"mount namespace setup failed while {step}: {error.strerror}") from None


# --- layer 2: privileges ------------------------------------------------------------------------


def drop_privileges() -> None:
    """Set no_new_privs, then empty the bounding, ambient and process capability sets."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as error:
            if error.errno == 22:  # EINVAL: past the kernel's last capability
                break
            if error.errno == EPERM:  # no CAP_SETPCAP: unprivileged, nothing to drop
                break
            raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass  # kernels before 4.3 have no ambient set
    header = struct.pack("=Ii", CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} u32 triples, all zero
    if _libc.capset(header, data) != 0:
        raise _os_error("capset")


# --- layer 3: Landlock --------------------------------------------------------------------------


def handled_rights(abi: int, network: bool) -> tuple[int, int, int]:
    """(filesystem, network, scope) rights to handle under ``abi``; unknown bits are masked."""
    if abi < 1:
        return 0, 0, 0
    fs = FS_BY_ABI.get(abi, FS_ALL if abi >= 5 else FS_BY_ABI[3])
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 and not network else 0
    # An abstract UNIX socket is a network address (per network namespace, like a port on
    # 127.0.0.1): with network on it stays reachable, as on the host. Signals stay scoped.
    scoped = (SCOPE_SIGNAL | (0 if network else SCOPE_ABSTRACT_UNIX_SOCKET)) if abi >= 6 else 0
    return fs, net, scoped


def path_rules(abi: int, writable_roots: list[str]) -> list[tuple[str, int]]:
    """(path, allowed rights) pairs for the ruleset, masked to what ``abi`` handles.

    Non-directory targets are masked further to file rights when the rule is added.
    """
    fs = handled_rights(abi, True)[0]
    rules = [("/", FS_READ_EXECUTE & fs)]
    rules.extend((device, FS_DEVICE & fs) for device in DEVICE_PATHS)
    rules.extend((root, FS_WRITABLE_ROOT & fs) for root in writable_roots)
    return [(path, rights) for path, rights in rules if rights]


def ruleset_attr(abi: int, fs: int, net: int, scoped: int) -> bytes:
    """``struct landlock_ruleset_attr`` cut to the size this ABI knows."""
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    return struct.pack("=QQQ", fs, net, scoped)[:size]


def apply_landlock(abi: int, writable_roots: list[str], network: bool) -> None:
    """Create, fill and enforce the ruleset; missing paths are skipped."""
    fs, net, scoped = handled_rights(abi, network)
    attr = ruleset_attr(abi, fs, net, scoped)
    try:
        ruleset = syscall(SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
    except OSError as error:
        raise SetupError(f"landlock_create_ruleset failed: {error.strerror}") from None
    try:
        for path, rights in path_rules(abi, writable_roots):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise SetupError(f"cannot open {path} for a Landlock rule: {error.strerror}") from None
            try:
                if os.fstat(fd).st_mode & 0o170000 != 0o040000:  # not a directory
                    rights &= FS_FILE_RIGHTS
                beneath = struct.pack("=Qi", rights, fd)
                syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, beneath, 0)
            except OSError as error:
                raise SetupError(f"landlock_add_rule for {path} failed: {error.strerror}") from None
            finally:
                os.close(fd)
        try:
            syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0)
        except OSError as error:
            raise SetupError(f"landlock_restrict_self failed: {error.strerror}") from None
    finally:
        os.close(ruleset)


# --- layer 4: seccomp ---------------------------------------------------------------------------


def build_seccomp_filter(machine: str, network: bool) -> list[tuple[int, int, int, int]]:
    """Assemble the classic BPF program as (code, jt, jf, k) instructions.

    Jump targets are labels resolved to forward offsets; ``None`` means the next instruction.
    """
    arch = ARCHES.get(machine)
    if arch is None:
        raise SetupError(f"no seccomp syscall table for {machine}; supported: {', '.join(ARCHES)}")
    program: list[tuple[int, str | None, str | None, int] | str] = []

    def load(offset: int) -> None:
        program.append((BPF_LD_W_ABS, None, None, offset))

    def jump(code: int, k: int, true: str | None, false: str | None = None) -> None:
        program.append((code, true, false, k))

    load(SECCOMP_DATA_ARCH)
    jump(BPF_JEQ_K, arch.audit, None, "kill")
    load(SECCOMP_DATA_NR)
    if arch.has_x32:
        jump(BPF_JGE_K, X32_SYSCALL_BIT, "eperm")
    for nr in (SYS_IO_URING_SETUP, SYS_IO_URING_ENTER, SYS_IO_URING_REGISTER):
        jump(BPF_JEQ_K, nr, "eperm")
    # clone3 and openat2 pass their flags in a struct BPF cannot read; ENOSYS makes libc fall
    # back to clone/openat, whose arguments the rules below can see.
    jump(BPF_JEQ_K, SYS_CLONE3, "enosys")
    jump(BPF_JEQ_K, SYS_OPENAT2, "enosys")
    if not network:
        jump(BPF_JEQ_K, arch.socket, "socket")
    jump(BPF_JEQ_K, arch.ioctl, "ioctl")
    jump(BPF_JEQ_K, arch.clone, "namespaces")
    jump(BPF_JEQ_K, arch.unshare, "namespaces")
    mode_checks = sorted({(mode, flags) for _, mode, flags in arch.mode_setters})
    for nr, mode, flags in arch.mode_setters:
        jump(BPF_JEQ_K, nr, f"mode{mode}flags{flags}")
    program.append((BPF_RET_K, None, None, SECCOMP_RET_ALLOW))

    if not network:
        program.append("socket")
        load(seccomp_arg_low(0))
        jump(BPF_JEQ_K, AF_UNIX, "allow", "eperm")
    program.append("ioctl")
    load(seccomp_arg_low(1))  # the kernel reads cmd as unsigned int: the low word is all
    jump(BPF_JEQ_K, TIOCSTI, "eperm")
    jump(BPF_JEQ_K, TIOCLINUX, "eperm", "allow")
    program.append("namespaces")
    load(seccomp_arg_low(0))
    jump(BPF_JSET_K, CLONE_NEWUSER, "eperm", "allow")
    for mode, flags in mode_checks:
        program.append(f"mode{mode}flags{flags}")
        if flags >= 0:  # open/openat only use the mode when they create a file
            load(seccomp_arg_low(flags))
            jump(BPF_JSET_K, O_CREAT | O_TMPFILE_BIT, None, "allow")
        load(seccomp_arg_low(mode))
        jump(BPF_JSET_K, SETID_BITS, "eperm", "allow")
    for label, verdict in (
        ("allow", SECCOMP_RET_ALLOW),
        ("eperm", SECCOMP_RET_ERRNO | EPERM),
        ("enosys", SECCOMP_RET_ERRNO | ENOSYS),
        ("kill", SECCOMP_RET_KILL_PROCESS),
    ):
        program.append(label)
        program.append((BPF_RET_K, None, None, verdict))
    return _resolve_labels(program)


def _resolve_labels(
    program: list[tuple[int, str | None, str | None, int] | str],
) -> list[tuple[int, int, int, int]]:
    positions: dict[str, int] = {}
    instructions: list[tuple[int, str | None, str | None, int]] = []
    for item in program:
        if isinstance(item, str):
            positions[item] = len(instructions)
        else:
            instructions.append(item)
    resolved = []
    for index, (code, true, false, k) in enumerate(instructions):
        offsets = []
        for label in (true, false):
            offset = 0 if label is None else positions[label] - index - 1
            if not 0 <= offset <= 255:
                raise SetupError(f"seccomp jump to {label} out of range ({offset})")
            offsets.append(offset)
        resolved.append((code, offsets[0], offsets[1], k))
    return resolved


def pack_filter(instructions: list[tuple[int, int, int, int]]) -> bytes:
    """The program as an array of ``struct sock_filter`` {u16 code; u8 jt; u8 jf; u32 k}."""
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in instructions)


# The fork server confines many children from one process; the program only depends on these two.
_packed_filters: dict[tuple[str, bool], bytes] = {}


def install_seccomp(machine: str, network: bool) -> None:
    """Load the filter into this (single-threaded) process; no_new_privs must already be set."""
    packed = _packed_filters.get((machine, network))
    if packed is None:
        packed = _packed_filters[machine, network] = pack_filter(build_seccomp_filter(machine, network))
    code = ctypes.create_string_buffer(packed)
    prog = ctypes.create_string_buffer(struct.pack("=HxxxxxxQ", len(packed) // 8, ctypes.addressof(code)))
    try:
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))
    except OSError as error:
        raise SetupError(f"installing the seccomp filter failed: {error.strerror}") from None


# --- putting it together ------------------------------------------------------------------------


def confine(policy: Policy) -> list[str]:
    """Apply every layer to this process; return warnings about layers the kernel refused."""
    warnings: list[str] = []
    machine = os.uname().machine
    if machine not in ARCHES:
        raise SetupError(f"unsupported architecture {machine}; supported: {', '.join(ARCHES)}")
    abi = landlock_abi()
    if abi < 1:
        raise SetupError("Landlock is not available (kernel older than 5.13, or not in the lsm= list)")
    roots = outermost(resolve_existing(policy.writable_roots))
    # "mount_namespace": false skips layer 1 (to debug, or to test what Landlock holds alone).
    how, why_not = enter_mount_namespace() if policy.mount_namespace else ("", "disabled by the policy")
    if how:
        masked = sockets_to_mask(policy.mask_sockets, os.geteuid())
        try:
            remount_read_only(roots, protected_subpaths(policy, roots), masked, resolve_existing(policy.writable_roots))
        except MountLayerUnavailable as error:
            how, why_not = "", str(error)
    if not how:
        if policy.require_mount_namespace:
            raise SetupError(f"a mount namespace is required but unavailable: {why_not}")
        warnings.append(
            f"no mount namespace ({why_not}): chmod/chown/utime/xattr outside the writable roots "
            "and read-only .git/.codex are not enforced"
        )
    try:
        os.chdir(policy.cwd)
    except OSError as error:
        raise SetupError(f"cannot enter the working directory {policy.cwd}: {error.strerror}") from None
    try:
        drop_privileges()
    except OSError as error:
        raise SetupError(f"dropping privileges failed: {error.strerror}") from None
    apply_landlock(abi, roots, policy.network)
    try:
        # Descriptors the caller leaked could reach host mounts past the read-only layer.
        syscall(SYS_CLOSE_RANGE, 3, 0xFFFFFFFF, CLOSE_RANGE_CLOEXEC)
    except OSError:
        pass  # before 5.11; subprocess callers close descriptors anyway
    install_seccomp(machine, policy.network)
    return warnings


def probe() -> dict[str, object]:
    """What this machine lets the helper enforce; enters a mount namespace in this process."""
    machine = os.uname().machine
    how, why_not = enter_mount_namespace()
    if how:
        try:
            make_private()
        except MountLayerUnavailable as error:
            how, why_not = "", str(error)
    return {
        "landlock_abi": landlock_abi(),
        "arch": machine,
        "seccomp_arch_supported": machine in ARCHES,
        "mount_namespace": how,
        "mount_namespace_error": why_not,
        "root": os.geteuid() == 0,
    }


def parse_arguments(args: list[str]) -> tuple[Policy, list[str]]:
    """``--policy JSON -- argv...`` into the policy and the command."""
    if len(args) < 4 or args[0] != "--policy" or args[2] != "--":
        raise SetupError("usage: helper.py --policy JSON -- COMMAND [ARG...]")
    return decode_policy(args[1]), args[3:]


def main(args: list[str]) -> int:
    """Confine and exec; only returns (with 126 or 127) when the command could not start."""
    import signal

    # Python ignores SIGPIPE and SIGXFSZ for itself; an exec'd command must not inherit that.
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_DFL)
    if args == ["--probe"]:
        import json

        print(json.dumps(probe()))
        return 0
    try:
        policy, command = parse_arguments(args)
        warnings = confine(policy)
    except SetupError as error:
        sys.stderr.write(f"codex-sandbox: {error}\n")
        return SETUP_FAILED
    if os.environ.get(VERBOSE_ENV) == "1":
        for warning in warnings:
            sys.stderr.write(f"codex-sandbox: warning: {warning}\n")
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        sys.stderr.write(f"codex-sandbox: command not found: {command[0]}\n")
        return COMMAND_NOT_FOUND
    except OSError as error:
        sys.stderr.write(f"codex-sandbox: cannot execute {command[0]}: {error.strerror}\n")
        return SETUP_FAILED
    return SETUP_FAILED  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
