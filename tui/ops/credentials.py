"""Credentials: read the env file safely, map it into rclone's variables, keep secrets hidden.

The env file is parsed with python-dotenv, never executed by a shell. Secrets reach rclone
only through `RCLONE_*` variables in the child's environment: never argv, never the remote
string, never our output. `redact` scrubs every known secret value from text we print.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tui.core.remotes import display_remote
from tui.ops import trust

# The seed's names, mapped onto what rclone's b2 backend reads.
B2_MAPPING = {"B2_APPLICATION_KEY_ID": "RCLONE_B2_ACCOUNT", "B2_APPLICATION_KEY": "RCLONE_B2_KEY"}

# Per backend: groups of variables, at least one of each group must be set.
REQUIRED_CREDENTIALS: dict[str, list[tuple[str, ...]]] = {
    "b2": [("RCLONE_B2_ACCOUNT",), ("RCLONE_B2_KEY",)],
    "s3": [("RCLONE_S3_ACCESS_KEY_ID", "RCLONE_S3_ENV_AUTH"),
           ("RCLONE_S3_SECRET_ACCESS_KEY", "RCLONE_S3_ENV_AUTH")],
    "sftp": [("RCLONE_SFTP_HOST",), ("RCLONE_SFTP_PASS", "RCLONE_SFTP_KEY_FILE",
                                      "RCLONE_SFTP_KEY_PEM", "RCLONE_SFTP_KEY_USE_AGENT")],
    "webdav": [("RCLONE_WEBDAV_URL",)],
    "ftp": [("RCLONE_FTP_HOST",)],
    "swift": [("RCLONE_SWIFT_KEY", "RCLONE_SWIFT_ENV_AUTH")],
    "azureblob": [("RCLONE_AZUREBLOB_ACCOUNT", "RCLONE_AZUREBLOB_ENV_AUTH")],
    "gcs": [("RCLONE_GCS_SERVICE_ACCOUNT_FILE", "RCLONE_GCS_SERVICE_ACCOUNT_CREDENTIALS",
             "RCLONE_GCS_ENV_AUTH")],
}
# Backends that keep nothing secret (or are on this machine).
NO_CREDENTIALS = {"local", "memory", "alias", "union", "combine", "chunker", "hasher"}

_SECRET_NAME = re.compile(r"KEY|SECRET|PASS|TOKEN|ACCOUNT|CREDENTIAL|AUTH|USER|SAS|SIG", re.I)
# The kernel refuses an exec whose environment is over a few hundred KiB (E2BIG), and one
# variable over 128 KiB.
MAX_ENV_FILE = 64 * 1024
_HARMLESS_VALUES = {"", "true", "false", "0", "1", "yes", "no"}


class CredentialError(Exception):
    """What is wrong with the credentials, and what to do; never holds a secret value."""


@dataclass(frozen=True)
class EnvFileCheck:
    ok: bool
    detail: str
    fix: str


def needs_credentials(backend: str) -> bool:
    return backend not in NO_CREDENTIALS


def check_env_file(path: Path, uid: int | None = None) -> EnvFileCheck:
    """Regular file, mode no wider than 0600, owned by root or the current user, in folders
    no other user can write (tui/ops/trust.py)."""
    return inspect_env_file(path, uid)[0]


def inspect_env_file(path: Path, uid: int | None = None) -> tuple[EnvFileCheck, dict[str, str]]:
    """The check and the values, both from one descriptor: what was checked is what is read
    (a check by name and a read by name again let a swap in between feed root another
    user's values). Values are empty unless the check passed."""
    try:
        fd = trust.open_checked(path, "env file", uid)
    except FileNotFoundError:
        return EnvFileCheck(False, f"{path} does not exist",
                            "create it with the credentials, mode 0600 (or set env_file)"), {}
    except PermissionError:
        return EnvFileCheck(False, f"{path} is not readable by this user (permission denied)",
                            "run as root or as the file's owner"), {}
    except trust.Untrusted as exc:
        text = str(exc)
        detail, _, fix = text.rpartition("; ")
        return EnvFileCheck(False, (detail or text).removeprefix("env file "),
                            fix or "keep it root's, mode 0600"), {}
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            return EnvFileCheck(False, f"{path} is not a regular file",
                                "point env_file at a regular file"), {}
        return EnvFileCheck(False, f"{path} cannot be opened: {exc.strerror}",
                            "check the file"), {}
    try:
        st = os.fstat(fd)
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            return EnvFileCheck(False, f"{path} has mode {mode:04o}: group/others can read it",
                                f"chmod 600 {path}"), {}
        try:
            values = _parse_env(path, _read_fd(fd, st.st_size, path))
        except CredentialError as exc:
            return EnvFileCheck(False, str(exc), "fix the file's permissions or content"), {}
        return EnvFileCheck(True, f"{path} (mode {mode:04o}, owner uid {st.st_uid})", ""), values
    finally:
        os.close(fd)


def _read_fd(fd: int, size: int, path: Path) -> bytes:
    if size > MAX_ENV_FILE:
        raise CredentialError(
            f"env file {path} is {size // 1024} KiB; an env file holds a few credentials "
            f"(at most {MAX_ENV_FILE // 1024} KiB, or rclone cannot start): point env_file at "
            "the right file")
    data = b""
    while len(data) <= MAX_ENV_FILE and (chunk := os.read(fd, 65536)):
        data += chunk
    return data


def _parse_env(path: Path, data: bytes) -> dict[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(f"env file {path} is not valid UTF-8") from None
    from dotenv import dotenv_values  # loaded when an env file is read, not by every screen

    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: v for k, v in values.items() if v is not None}


def load_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines with python-dotenv (no shell, no interpolation of commands),
    from a file checked on its descriptor like every file root loads (tui/ops/trust.py)."""
    try:
        fd = trust.open_checked(path, "env file")
    except FileNotFoundError:
        raise CredentialError(f"env file {path} does not exist") from None
    except PermissionError:
        raise CredentialError(f"env file {path} is not readable (permission denied)") from None
    except trust.Untrusted as exc:
        raise CredentialError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise CredentialError(f"env file {path} is a directory") from None
        raise CredentialError(f"env file {path} cannot be read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise CredentialError(f"env file {path} is a directory")
        return _parse_env(path, _read_fd(fd, st.st_size, path))
    finally:
        os.close(fd)


def env_file_names(path: Path) -> frozenset[str]:
    """The names an env file defines, read even when its values could not be used (so a
    hook never sees them), or nothing when it cannot be read at all."""
    try:
        if os.stat(path).st_size > MAX_ENV_FILE:
            return frozenset()
        with open(path, encoding="utf-8") as fh:
            from dotenv import dotenv_values

            return frozenset(dotenv_values(stream=fh, interpolate=False))
    except (OSError, UnicodeDecodeError):
        return frozenset()


def child_environment(
    base: Mapping[str, str], env_file_values: Mapping[str, str], job_env: Mapping[str, str]
) -> dict[str, str]:
    """The environment rclone runs with.

    Starts from `base` (our own environment: systemd's EnvironmentFile may already have put
    the B2_* names there), layers the job's fixed variables and the env file on top, then
    maps B2_APPLICATION_KEY_ID/KEY to RCLONE_B2_ACCOUNT/KEY. The B2_* originals are dropped:
    rclone does not read them and the fewer copies of a secret the better.
    """
    env = dict(base)
    env.update(job_env)
    env.update(env_file_values)
    for seed_name, rclone_name in B2_MAPPING.items():
        value = env.pop(seed_name, None)
        if value:
            env[rclone_name] = value
    return env


def missing_credentials(backend: str, env: Mapping[str, str]) -> list[str]:
    """Names (never values) of the variables the backend needs and does not have."""
    missing: list[str] = []
    for group in REQUIRED_CREDENTIALS.get(backend, []):
        if not any(env.get(name) for name in group):
            missing.append(" or ".join(group))
    return missing


def secret_values(env_file_values: Mapping[str, str], env: Mapping[str, str]) -> frozenset[str]:
    """Every value that must never be shown: env-file and RCLONE_* / B2_* / AWS_* values
    that look like secrets (see `looks_secret`). Ports, sizes, regions and vendor names are
    not secrets: masking them would mangle every number and word that happens to match."""
    found: set[str] = set()
    for name, value in env_file_values.items():
        found |= _secret_parts(name, value)
    for name, value in env.items():
        if name.startswith(("RCLONE_", "B2_", "AWS_")):
            found |= _secret_parts(name, value)
    return frozenset(v for v in found if len(v) >= 3)


def looks_secret(name: str, value: str) -> bool:
    """A value named like a credential, a URL carrying a password or a signature, or a long
    token-like string of letters and digits; never a bare number or a plain word."""
    v = value.strip()
    if v.lower() in _HARMLESS_VALUES or len(v) < 3:
        return False
    if _SECRET_NAME.search(name):
        return True
    if _URL_SECRET.search(v):
        return True
    if v.isdigit() or re.fullmatch(r"[A-Za-z][A-Za-z_\-.]*", v) or "/" in v or " " in v:
        return False
    # A token mixes letters and digits within a part; `eu-central-1` or `v1.2.3` do not.
    return len(v) >= 12 and any(re.search(r"[A-Za-z]", part) and re.search(r"\d", part)
                                for part in re.split(r"[-_.:]", v))


# user:password@ in a URL, or a query parameter that signs or authenticates (Azure SAS sig=).
_URL_SECRET = re.compile(r"://[^/@\s]*:[^/@\s]*@|[?&](sig|signature|token|key|password|auth)\w*=",
                         re.I)
_USERINFO_PASSWORD = re.compile(r"://[^/@:\s]*:([^/@\s]+)@")


def _secret_parts(name: str, value: str) -> set[str]:
    if not looks_secret(name, value):
        return set()
    parts = {value}
    password = _USERINFO_PASSWORD.search(value)
    if password:
        parts.add(password[1])  # shown alone too (an error that quotes only the password)
    return parts


def redact(text: str, secrets: Iterable[str], keep: Iterable[str] = ()) -> str:
    """Each secret replaced by ***, longest first, only where it stands as a whole token: a
    secret `2222` never turns `bytes=22220` into `bytes=***0`. `keep`: our own identifiers
    (the job's name, its paths), never redacted inside: a password that happens to be a word
    of the job name must not turn `job=nas-sftp` into `job=***-sftp`."""
    secrets = [v for v in sorted(secrets, key=len, reverse=True) if v and v in text]
    if not secrets:
        return text
    # Our identifiers stand aside (as private-use characters, never in a secret) meanwhile.
    kept = [k for k in sorted(set(keep), key=len, reverse=True) if k and k in text][:6000]
    for i, k in enumerate(kept):
        text = text.replace(k, chr(0xE000 + i))
    for value in secrets:
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", "***", text)
    for i, k in enumerate(kept):
        text = text.replace(chr(0xE000 + i), k)
    return text


def identifiers(name: str, source: str, destination: str, *paths: object) -> frozenset[str]:
    """The words of ours a redaction keeps: the job's name, source, destination (as shown,
    its credential parameters masked) and other paths of the job."""
    return frozenset(x for x in (name, source, display_remote(destination),
                                 *(str(p) for p in paths if p is not None)) if x)
