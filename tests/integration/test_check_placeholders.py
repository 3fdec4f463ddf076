"""`check` refuses example values copied from docs/install.md and never filled in, and
never shows an env file's value while saying so."""

from __future__ import annotations

from pathlib import Path


def test_check_refuses_placeholders(job_config, run_cli, tmp_path: Path) -> None:
    env_file = tmp_path / "creds.env"
    env_file.write_text("B2_APPLICATION_KEY_ID=changeme\nB2_APPLICATION_KEY=<your key>\n")
    env_file.chmod(0o600)
    job = job_config(ping_url="https://hc-ping.com/…", env_file=str(env_file))
    (job.source / "a.txt").write_text("a")
    r = run_cli("--config", str(job.config), "check", "--offline")
    assert r.returncode == 78, r.stdout
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("✗ placeholders:"))
    assert line == ("✗ placeholders: example values never filled in: ping_url = "
                    "'https://hc-ping.com/…'; B2_APPLICATION_KEY in "
                    f"{env_file} (value hidden); B2_APPLICATION_KEY_ID in {env_file} (value "
                    "hidden) — fix: put the real value there (see docs/install.md), or remove "
                    "the key")
    assert "changeme" not in r.stdout and "your key" not in r.stdout
    fine = job_config(name="u", ping_url="https://hc-ping.com/0f5a9c2e-real-uuid")
    (fine.source / "a.txt").write_text("a")
    ok = run_cli("--config", str(fine.config), "check", "--offline")
    assert "placeholders" not in ok.stdout
