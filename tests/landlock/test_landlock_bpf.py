"""The seccomp program, checked by running it through a classic-BPF interpreter written here.

Each rule's verdict is computed over synthetic ``struct seccomp_data``, so these tests run on any
OS; the real kernel's verdicts are checked in test_landlock_escape.py.
"""

from __future__ import annotations

import struct

import pytest
from codex_landlock import helper

ALLOW = helper.SECCOMP_RET_ALLOW
EPERM = helper.SECCOMP_RET_ERRNO | 1
ENOSYS = helper.SECCOMP_RET_ERRNO | 38
KILL = helper.SECCOMP_RET_KILL_PROCESS
X86_64 = helper.ARCHES["x86_64"]
AARCH64 = helper.ARCHES["aarch64"]
AUDIT_ARCH_I386 = 0x40000003

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
TCGETS = 0x5401
CLONE_THREAD_FLAGS = 0x003D0F00  # what pthread_create passes
O_RDONLY, O_WRONLY = 0, 1


def run_bpf(packed: bytes, data: bytes) -> int:
    """Execute a packed classic BPF program (the subset seccomp filters use) over ``data``."""
    program = [struct.unpack_from("=HBBI", packed, offset) for offset in range(0, len(packed), 8)]
    assert len(packed) % 8 == 0 and 0 < len(program) <= 4096
    accumulator = 0
    pc = 0
    for _ in range(len(program)):  # every jump goes forward, so this bounds the run
        code, jt, jf, k = program[pc]
        if code == 0x20:  # BPF_LD | BPF_W | BPF_ABS
            assert k % 4 == 0 and k + 4 <= len(data), f"load outside seccomp_data at {k}"
            accumulator = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif code == 0x05:  # BPF_JMP | BPF_JA
            pc += 1 + k
        elif code & 0x07 == 0x05:  # BPF_JMP with a K operand
            conditions = {
                0x10: accumulator == k,
                0x20: accumulator > k,
                0x30: accumulator >= k,
                0x40: accumulator & k != 0,
            }
            pc += 1 + (jt if conditions[code & 0xF0] else jf)
        elif code == 0x06:  # BPF_RET | BPF_K
            return int(k)
        else:
            raise AssertionError(f"unexpected opcode {code:#x} at {pc}")
        assert pc < len(program), "ran off the end of the program"
    raise AssertionError("program did not return")


def seccomp_data(nr: int, *args: int, arch: int = X86_64.audit) -> bytes:
    """``struct seccomp_data`` as the kernel lays it out on a little-endian machine."""
    padded = [*args, *([0] * (6 - len(args)))]
    return struct.pack("<iIQ6Q", nr, arch, 0x401000, *padded)


def verdict(nr: int, *args: int, network: bool = False, machine: str = "x86_64", arch: int = 0) -> int:
    """What the helper's filter for ``machine`` answers to one syscall."""
    packed = helper.pack_filter(helper.build_seccomp_filter(machine, network))
    return run_bpf(packed, seccomp_data(nr, *args, arch=arch or helper.ARCHES[machine].audit))


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_ordinary_syscalls_are_allowed(machine: str) -> None:
    for nr in (0, 1, 3, 39, 60, 63, 64, 93, 172):  # read/write/close/getpid/exit... on either table
        assert verdict(nr, 0, 0, 0, machine=machine) == ALLOW


def test_a_foreign_architecture_kills_the_process() -> None:
    # A 32-bit int 0x80 call on x86_64 reports AUDIT_ARCH_I386 and uses another syscall table.
    assert verdict(1, arch=AUDIT_ARCH_I386) == KILL
    assert verdict(X86_64.socket, AF_INET, arch=AARCH64.audit) == KILL
    assert verdict(AARCH64.socket, AF_INET, machine="aarch64", arch=X86_64.audit) == KILL


def test_x32_syscalls_are_denied_on_x86_64() -> None:
    assert verdict(0x40000000 | 39) == EPERM
    assert verdict(0x40000000 | 41, AF_UNIX) == EPERM
    assert verdict(0x3FFFFFFF) == ALLOW  # just below the x32 bit: an unknown syscall, kernel says ENOSYS


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("network", [False, True])
def test_io_uring_is_always_denied(machine: str, network: bool) -> None:
    for nr in (425, 426, 427):
        assert verdict(nr, 8, 0, network=network, machine=machine) == EPERM


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_network_sockets_are_denied_when_network_is_off(machine: str) -> None:
    socket_nr = helper.ARCHES[machine].socket
    for domain in (AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, 40):
        assert verdict(socket_nr, domain, 1, 0, machine=machine) == EPERM
    assert verdict(socket_nr, AF_UNIX, 1, 0, machine=machine) == ALLOW


def test_socket_domain_is_judged_on_the_int_the_kernel_reads() -> None:
    # socket() takes an int: garbage in the high half must neither help nor hurt.
    assert verdict(X86_64.socket, (0xDEAD << 32) | AF_UNIX) == ALLOW
    assert verdict(X86_64.socket, (1 << 32) | AF_INET) == EPERM


def test_network_on_leaves_sockets_alone() -> None:
    for domain in (AF_INET, AF_INET6, AF_UNIX):
        assert verdict(X86_64.socket, domain, network=True) == ALLOW


def test_socketpair_is_local_and_allowed() -> None:
    assert verdict(53, AF_UNIX, 1, 0, 0) == ALLOW
    assert verdict(199, AF_UNIX, 1, 0, 0, machine="aarch64") == ALLOW


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_terminal_injection_ioctls_are_denied(machine: str) -> None:
    ioctl = helper.ARCHES[machine].ioctl
    assert verdict(ioctl, 0, helper.TIOCSTI, 0, machine=machine) == EPERM
    assert verdict(ioctl, 0, helper.TIOCLINUX, 0, machine=machine) == EPERM
    # The kernel reads cmd as unsigned int, so high bits must not smuggle TIOCSTI past the rule.
    assert verdict(ioctl, 0, (0xFFFF << 32) | helper.TIOCSTI, machine=machine) == EPERM
    assert verdict(ioctl, 0, TCGETS, 0, machine=machine) == ALLOW


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_new_user_namespaces_are_denied(machine: str) -> None:
    arch = helper.ARCHES[machine]
    assert verdict(arch.unshare, helper.CLONE_NEWUSER, machine=machine) == EPERM
    assert verdict(arch.unshare, helper.CLONE_NEWUSER | helper.CLONE_NEWNS, machine=machine) == EPERM
    assert verdict(arch.clone, helper.CLONE_NEWUSER | 17, machine=machine) == EPERM
    assert verdict(arch.clone, CLONE_THREAD_FLAGS, machine=machine) == ALLOW
    assert verdict(arch.clone, 17, machine=machine) == ALLOW  # fork(): SIGCHLD only
    assert verdict(arch.unshare, helper.CLONE_NEWNS, machine=machine) == ALLOW


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_struct_argument_syscalls_fall_back_with_enosys(machine: str) -> None:
    assert verdict(435, 0, 88, machine=machine) == ENOSYS  # clone3
    assert verdict(437, -100 & 0xFFFFFFFF, 0, 0, 24, machine=machine) == ENOSYS  # openat2


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_set_id_modes_are_denied_on_every_mode_setting_syscall(machine: str) -> None:
    for nr, mode_index, flags_index in helper.ARCHES[machine].mode_setters:
        for mode, expected in ((0o4755, EPERM), (0o2755, EPERM), (0o6777, EPERM), (0o755, ALLOW)):
            args = [0] * 6
            args[mode_index] = mode
            if flags_index >= 0:
                args[flags_index] = helper.O_CREAT | O_WRONLY
            assert verdict(nr, *args, machine=machine) == expected, (nr, oct(mode))


def test_opening_without_creating_ignores_the_mode_argument() -> None:
    openat, open_ = 257, 2
    assert verdict(openat, 0, 0, O_RDONLY, 0o4755) == ALLOW
    assert verdict(open_, 0, O_RDONLY, 0o6755) == ALLOW
    assert verdict(openat, 0, 0, helper.O_TMPFILE_BIT | O_WRONLY, 0o4755) == EPERM
    assert verdict(56, 0, 0, O_RDONLY, 0o4755, machine="aarch64") == ALLOW


def test_filter_packing_matches_struct_sock_filter() -> None:
    instructions = helper.build_seccomp_filter("x86_64", False)
    packed = helper.pack_filter(instructions)
    assert len(packed) == 8 * len(instructions)
    assert struct.unpack_from("=HBBI", packed, 0) == (0x20, 0, 0, helper.SECCOMP_DATA_ARCH)
    assert instructions[-1] == (helper.BPF_RET_K, 0, 0, KILL)


def test_unknown_architecture_is_a_setup_error() -> None:
    with pytest.raises(helper.SetupError, match="riscv64"):
        helper.build_seccomp_filter("riscv64", False)
