"""Generate the Seatbelt (SBPL) profile that enforces a :class:`SandboxPolicy` on macOS.

The profile text never contains a path: every writable root and every protected subpath is a
parameter (``(param "WRITABLE_ROOT_0")``) handed to ``sandbox-exec`` with ``-D``. That keeps the
text identical across machines (so it can be reviewed as a golden file) and means no path needs
SBPL string escaping.

Example::

    text, params = generate_policy(SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=Path.cwd()))
    # params == {"WRITABLE_ROOT_0": "/Users/me/project", "WRITABLE_ROOT_0_RO_0": ".../.git", ...}
"""

from __future__ import annotations

import os
from pathlib import Path

from codex.plugin import SandboxError, SandboxMode, SandboxPolicy

# Every profile starts here: nothing is allowed unless a rule below says so.
_HEADER = """\
(version 1)

; Closed by default: each allowance below names the ordinary tool that needs it.
(deny default)
"""

# Allowances every confined command gets, whatever the mode.
_BASE = """\
; A shell must be able to run programs; children inherit this same profile, so exec and fork
; grant nothing new.
(allow process-exec)
(allow process-fork)

; Job control (kill, timeout, make -j, Ctrl-C forwarding) only towards our own processes,
; never towards the rest of the user's session.
(allow signal (target same-sandbox))
; ps, pgrep and runtimes asking about their own children.
(allow process-info* (target same-sandbox))

; Reading is never what the sandbox guards: commands must see the toolchain, the repository and
; the user's configuration. Only writes and the network are confined.
(allow file-read*)

; CoreFoundation-based tools (defaults, xcrun, Security) read preferences at start-up.
(allow user-preference-read)

; Discarding output is universal (`> /dev/null`, `2>&1 >/dev/null`).
(allow file-write-data (literal "/dev/null"))

; `> /dev/stdout`, `> /dev/stderr` and `/dev/fd/N` only duplicate a descriptor the command
; already holds, so they add no authority; many shell scripts write diagnostics this way.
(allow file-write-data
  (literal "/dev/stdout")
  (literal "/dev/stderr")
  (regex #"^/dev/fd/[0-9]+$"))

; Interactive programs (prompts, less, stty, python's pty, script, expect) write to and
; configure terminals, and create new pseudo-terminals through /dev/ptmx.
(allow pseudo-tty)
(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))
(allow file-write-data file-ioctl
  (literal "/dev/tty")
  (regex #"^/dev/ttys[0-9]+$"))

; System facts that compilers, runtimes and build tools query: CPU count and features (make -j,
; numpy, OpenSSL, the Go and Rust runtimes), memory and page size (allocators, JVM), OS version
; (uname, platform checks), process limits (xargs, shells) and load average (uptime, top).
(allow sysctl-read
  (sysctl-name "hw.activecpu")
  (sysctl-name "hw.byteorder")
  (sysctl-name "hw.cachelinesize")
  (sysctl-name "hw.cpufamily")
  (sysctl-name "hw.cpufrequency")
  (sysctl-name "hw.cpusubtype")
  (sysctl-name "hw.cputype")
  (sysctl-name "hw.l1dcachesize")
  (sysctl-name "hw.l1icachesize")
  (sysctl-name "hw.l2cachesize")
  (sysctl-name "hw.l3cachesize")
  (sysctl-name "hw.logicalcpu")
  (sysctl-name "hw.logicalcpu_max")
  (sysctl-name "hw.machine")
  (sysctl-name "hw.memsize")
  (sysctl-name "hw.model")
  (sysctl-name "hw.ncpu")
  (sysctl-name "hw.nperflevels")
  (sysctl-name "hw.packages")
  (sysctl-name "hw.pagesize")
  (sysctl-name "hw.physicalcpu")
  (sysctl-name "hw.physicalcpu_max")
  (sysctl-name "hw.tbfrequency")
  (sysctl-name "hw.vectorunit")
  (sysctl-name-prefix "hw.optional.")
  (sysctl-name-prefix "hw.perflevel")
  (sysctl-name-prefix "machdep.cpu.")
  (sysctl-name "kern.argmax")
  (sysctl-name "kern.boottime")
  (sysctl-name "kern.hostname")
  (sysctl-name "kern.maxfiles")
  (sysctl-name "kern.maxfilesperproc")
  (sysctl-name "kern.maxproc")
  (sysctl-name "kern.osproductversion")
  (sysctl-name "kern.osrelease")
  (sysctl-name "kern.ostype")
  (sysctl-name "kern.osvariant_status")
  (sysctl-name "kern.osversion")
  (sysctl-name "kern.secure_kernel")
  (sysctl-name "kern.usrstack64")
  (sysctl-name "kern.version")
  (sysctl-name-prefix "kern.proc.pgrp.")
  (sysctl-name-prefix "kern.proc.pid.")
  (sysctl-name "sysctl.proc_cputype")
  (sysctl-name "sysctl.proc_translated")
  (sysctl-name "vm.loadavg"))

; The JVM reads its CPU grade through a sysctl that the kernel classifies as a write because
; the caller passes a buffer; nothing is changed.
(allow sysctl-write (sysctl-name "kern.grade_cputype"))

; Node's os.cpus() and similar runtimes ask the Mach host port for per-CPU statistics.
(allow mach-host*)

; getpwuid/getgrgid (whoami, id, ls -l, git, ssh, Python's pwd module) ask opendirectoryd.
(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))

; Python's multiprocessing locks and queues are POSIX named semaphores.
(allow ipc-posix-sem)
"""

# Added only when the policy allows the network.
_NETWORK = """\
; Network allowed by the policy: sockets of every family, in both directions (test servers
; listen on localhost, package managers connect out).
(allow network-outbound)
(allow network-inbound)
(allow system-socket)

; Name resolution and TLS go through system daemons rather than straight to the network:
; DNS and proxy settings come from configd, certificate trust from trustd/SecurityServer/ocspd,
; Network.framework clients talk to networkd, and group membership checks in Security.framework
; ask opendirectoryd.
(allow mach-lookup
  (global-name "com.apple.SystemConfiguration.DNSConfiguration")
  (global-name "com.apple.SystemConfiguration.configd")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.ocspd")
  (global-name "com.apple.networkd")
  (global-name "com.apple.system.opendirectoryd.membership")
  (global-name "com.apple.bsd.dirhelper"))

; Route lookups (getaddrinfo's address selection, `route get`, netstat -r).
(allow sysctl-read (sysctl-name-prefix "net.routetable."))
"""

_WRITES_COMMENT = """\
; Writes only inside the writable roots. Inside a root, existing .git and .codex stay read-only
; so a command cannot plant git hooks or rewrite codex's per-project configuration. A protected
; path is excluded from every root that contains it, not just the root it was found in, so a
; root nested inside another (a workspace under /tmp) stays protected.
"""


def root_param(index: int) -> str:
    """Name of the parameter carrying writable root ``index``: ``WRITABLE_ROOT_0``."""
    return f"WRITABLE_ROOT_{index}"


def protected_param(root_index: int, index: int) -> str:
    """Name of the parameter carrying a read-only path inside a root: ``WRITABLE_ROOT_0_RO_0``."""
    return f"{root_param(root_index)}_RO_{index}"


def canonical_path(path: Path | str) -> Path:
    """Resolve symlinks the way the kernel does before Seatbelt compares paths.

    Seatbelt matches the resolved path, so an unresolved ``/var/folders/...`` root would never
    match a write to ``/private/var/folders/...``, and a symlinked workspace would be unwritable.
    """
    return Path(os.path.realpath(path))


def _unique(paths: list[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def writable_roots_with_protected(policy: SandboxPolicy) -> list[tuple[Path, list[Path]]]:
    """Each canonical writable root with the canonical protected paths that lie inside it.

    The protected paths are the policy's (``read_only_subpaths``: ``.git``/``.codex`` at the top
    of each root, the repository around cwd, nested repositories, codex's own state) plus the
    protected names at the top of each canonical root. A protected entry that is a symlink
    contributes both its own path (so it cannot be replaced) and its target (so writes through
    it are refused), whichever of those lie inside the root.
    """
    roots = _unique([canonical_path(root) for root in policy.writable_roots])
    entries = list(policy.read_only_subpaths)
    entries.extend(root / name for root in roots for name in policy.protected_names)
    protected: list[Path] = []
    for entry in entries:
        if os.path.lexists(entry):
            protected.append(entry)
            protected.append(canonical_path(entry))
    protected = _unique(protected)
    # A root inside a protected path (codex started in ~/.codex/prompts) is allowed by its own
    # clause; the rest of the protected path stays denied through the outer root's clause.
    return [(root, [p for p in protected if _inside(p, root)]) for root in roots]


def _write_rules(roots: list[tuple[Path, list[Path]]], params: dict[str, str]) -> str:
    if not roots:
        return ""
    clauses: list[str] = []
    for root_index, (root, protected) in enumerate(roots):
        name = root_param(root_index)
        params[name] = str(root)
        if not protected:
            clauses.append(f'  (subpath (param "{name}"))')
            continue
        lines = [f'  (require-all (subpath (param "{name}"))']
        for index, path in enumerate(protected):
            ro_name = protected_param(root_index, index)
            params[ro_name] = str(path)
            lines.append(f'    (require-not (subpath (param "{ro_name}")))')
        lines[-1] += ")"
        clauses.append("\n".join(lines))
    return _WRITES_COMMENT + "(allow file-write*\n" + "\n".join(clauses) + ")\n"


def generate_policy(policy: SandboxPolicy) -> tuple[str, dict[str, str]]:
    """Return the SBPL profile for ``policy`` and the ``-D`` parameters it refers to.

    The text depends only on the mode, the network flag and how many roots and protected paths
    there are; the paths themselves are in the returned parameters (canonicalised).

    Raises :class:`SandboxError` for danger-full-access, which has nothing to confine.
    """
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        raise SandboxError(
            "seatbelt: danger-full-access has no confinement to express as a profile; "
            "run the command without a sandbox backend instead"
        )
    params: dict[str, str] = {}
    sections = [_HEADER, _BASE]
    if policy.mode is SandboxMode.WORKSPACE_WRITE:
        writes = _write_rules(writable_roots_with_protected(policy), params)
        if writes:
            sections.append(writes)
    if policy.network_access:
        sections.append(_NETWORK)
    return "\n".join(sections), params
