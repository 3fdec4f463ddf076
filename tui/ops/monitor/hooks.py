"""Telling the world how a run went: systemd's status line and the success/failure hooks."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tui.ops import credentials, trust


def sd_notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one sd_notify datagram (e.g. 'STATUS=…'); a no-op outside systemd."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8", "replace"))
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class HookResult:
    command: str
    exit_code: int | None  # None: timed out or could not start
    output: str
    problem: str | None  # a one-line reason when the hook failed


HOOK_OUTPUT_KEPT = 64 * 1024
# Kept whatever their value looks like: systemd's and the locale's.
_HOOK_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "INVOCATION_ID", "JOURNAL_STREAM")


def hook_environment(base_env: Mapping[str, str], facts: Mapping[str, str],
                     env_file_names: Iterable[str] = ()) -> dict[str, str]:
    """The run's facts over our environment minus anything secret: every variable the env
    file defined (under the unit's EnvironmentFile= they are all in our environment: a
    webhook token, a URL with a password), every credential name, every secret-looking
    value."""
    dropped = set(env_file_names)
    env = {k: v for k, v in base_env.items()
           if k not in dropped and (k in _HOOK_KEEP or not (
               _is_credential_name(k) or credentials.looks_secret(k, v)))}
    env.update(facts)
    return env


async def run_hook(
    command: str, facts: Mapping[str, str], base_env: Mapping[str, str], timeout: float,
    env_file_names: Iterable[str] = (),
) -> HookResult:
    """Run an operator's hook through the shell, with the run's facts as SPACE_MIRROR_*.

    The hook gets the facts and our environment minus secrets: a notification script has no
    business with the B2 key. Its output is read into a bounded buffer (its last 64 KiB).
    Its failure is reported and never changes the run's exit code.
    """
    env = hook_environment(base_env, facts, env_file_names)
    try:  # root runs only a program no other user could write (tui/ops/trust.py)
        shell_command, program = trust.hook_command(command, env.get("PATH"))
    except trust.Untrusted as exc:
        return HookResult(command, None, "", f"hook refused: {exc}")
    except OSError as exc:
        return HookResult(command, None, "", f"hook could not start: {exc.strerror}")
    try:
        proc = await asyncio.create_subprocess_shell(
            shell_command, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, pass_fds=(program.fd,) if program else (),
        )
    except OSError as exc:
        return HookResult(command, None, "", f"hook could not start: {exc.strerror}")
    finally:
        if program is not None:
            program.close()
    assert proc.stdout is not None
    kept = bytearray()

    async def read_all() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            kept.extend(chunk)
            if len(kept) > HOOK_OUTPUT_KEPT:
                del kept[:-HOOK_OUTPUT_KEPT]
        await proc.wait()

    try:
        await asyncio.wait_for(read_all(), timeout)
    except TimeoutError:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        await proc.wait()
        return HookResult(command, None, "", f"hook timed out after {timeout:.0f}s and was killed")
    text = kept.decode("utf-8", "replace")
    code = proc.returncode
    problem = None if code == 0 else f"hook exited with code {code}"
    return HookResult(command, code, text, problem)


def _is_credential_name(name: str) -> bool:
    upper = name.upper()
    if upper.startswith(("RCLONE_", "B2_", "AWS_")):
        return any(w in upper for w in ("KEY", "SECRET", "PASS", "TOKEN", "ACCOUNT", "USER"))
    return False
