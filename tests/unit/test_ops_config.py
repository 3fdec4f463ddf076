"""Jobs from TOML, the lookup order of the config file, and the CLI's overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sm_testkit import write_toml

from tui import config as cfg
from tui.config import ConfigError, Job, Overrides, destination_backend, find_config, load_job

SEVERAL = """
[defaults]
flags = ["--fast-list"]
require_mount = false

[jobs.photos]
source = "/data/photos"
destination = ":b2:photos-mirror"
env_file = "/etc/miket/b2.env"
log_file = "/var/log/photos.log"
hook_timeout = 5
env = { RCLONE_B2_CHUNK_SIZE = "96M", RCLONE_B2_HARD_DELETE = false }

[jobs.docs]
source = "/data/docs"
dest = "backup:docs"
flags = "--transfers 8 --track-renames"
max_delete = 100
"""


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_several_jobs(tmp_path: Path) -> None:
    path = write(tmp_path, SEVERAL)
    photos = load_job(path, "photos")
    assert photos.name == "photos" and photos.source == "/data/photos"
    assert photos.backend == "b2" and photos.env_file == Path("/etc/miket/b2.env")
    assert not photos.env_file_is_default
    assert photos.flags == ("--fast-list",) and photos.require_mount is False
    assert photos.hook_timeout == 5.0 and photos.log_file == Path("/var/log/photos.log")
    assert photos.env == {"RCLONE_B2_HARD_DELETE": "false", "RCLONE_B2_CHUNK_SIZE": "96M"}
    docs = load_job(path, "docs")
    assert docs.destination == "backup:docs" and docs.backend == "remote:backup"
    assert docs.flags == ("--transfers", "8", "--track-renames")  # a string is shell-split
    assert docs.max_delete == 100 and docs.require_mount is False  # from [defaults]
    assert docs.env_file_is_default  # not set: only demanded when credentials are needed
    assert docs.lock_path == Path("/run/space-mirror/docs/lock")  # root-only run folder
    assert docs.metrics_path.name == "space_mirror_docs.prom"


def test_several_jobs_need_a_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="several jobs; pick one with --job"):
        load_job(write(tmp_path, SEVERAL), None)
    with pytest.raises(ConfigError, match=r"'nope' is not defined .* docs, photos"):
        load_job(write(tmp_path, SEVERAL), "nope")


def test_one_job_is_picked_without_a_name(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, '[jobs.only]\nsource = "/s"\n'), None)
    assert job.name == "only" and job.source == "/s"
    assert job.destination == Job().destination  # the rest from the seed job


def test_no_config_is_the_seed_job() -> None:
    job = load_job(None, None)
    assert job == Job()
    assert job.source == "/space" and job.destination == ":b2:miket-space-mirror"
    with pytest.raises(ConfigError, match="no config file was found"):
        load_job(None, "other")


@pytest.mark.parametrize(("text", "message"), [
    ('[jobs.t]\nsourc = "/x"\n', "unknown key 'sourc' in job 't'"),
    ('colour = "red"\n[jobs.t]\nsource = "/x"\n', "unknown top-level key"),
    ('[jobs.t]\nflags = [1, 2]\n', "must be a list of strings"),
    ('[jobs.t]\nrequire_mount = "yes"\n', "must be true or false"),
    ('[jobs.t]\nhook_timeout = -1\n', "non-negative number"),
    ('[jobs.t]\nmax_delete = 1.5\n', "non-negative integer"),
    ('[jobs.t]\nlog_file = 5\n', "must be a path string"),
    ('[jobs.t]\nenv = { A = [1] }\n', "table of strings"),
    ('[jobs.t]\nsource = 5\n', "must be a string"),
    ('jobs = 5\n', "must be a table of named jobs"),
    ('[jobs]\nt = 5\n', "must be a table"),
    ('[jobs."bad name!"]\nsource = "/x"\n', "may hold only letters"),
    ("[jobs.t]\nsource = \n", "not valid TOML"),
])
def test_bad_config_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_job(write(tmp_path, text), None)
    assert "\n" not in str(info.value)


def test_unreadable_configs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_job(tmp_path / "none.toml", None)
    with pytest.raises(ConfigError, match="is a directory"):
        load_job(tmp_path, None)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[jobs.t]\nsource = "/caf\xe9"\n')
    with pytest.raises(ConfigError):
        load_job(bad, None)


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = write(tmp_path, "", "etc.toml")
    monkeypatch.setattr(cfg, "SYSTEM_CONFIG", system)
    env = {"SPACE_MIRROR_CONFIG": str(tmp_path / "env.toml")}
    assert find_config("/flag.toml", env) == Path("/flag.toml")
    assert find_config(None, env) == tmp_path / "env.toml"
    assert find_config(None, {}) == system
    assert find_config(None, {"SPACE_MIRROR_CONFIG": ""}) == system
    monkeypatch.setattr(cfg, "SYSTEM_CONFIG", tmp_path / "absent.toml")
    assert find_config(None, {}) is None


def test_overrides_beat_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, SEVERAL)
    ov = Overrides(source="/elsewhere", destination="/tmp/d", log_file="/tmp/l",
                   env_file="/tmp/e.env", rclone="/opt/rclone", require_mount=True)
    job = load_job(path, "photos", ov)
    assert (job.source, job.destination, job.log_file, job.env_file, job.rclone) == (
        "/elsewhere", "/tmp/d", Path("/tmp/l"), Path("/tmp/e.env"), "/opt/rclone")
    assert job.require_mount is True and not job.env_file_is_default
    # an empty --env-file means "none"
    assert load_job(path, "photos", Overrides(env_file="")).env_file is None
    assert load_job(path, "photos", Overrides()) == load_job(path, "photos")


@pytest.mark.parametrize(("dest", "backend"), [
    (":b2:bucket", "b2"),
    (":b2:bucket/path", "b2"),
    (":s3,provider=Rclone:b", "s3"),
    (":sftp:", "sftp"),
    ("remote:path", "remote:remote"),
    ("my-remote.x:path", "remote:my-remote.x"),
    ("/srv/mirror", "local"),
    ("relative/dir", "local"),
    ("./a:b", "local"),
])
def test_destination_backend(dest: str, backend: str) -> None:
    assert destination_backend(dest) == backend


def test_each_named_job_gets_its_own_default_log(tmp_path: Path) -> None:
    """Two jobs appending to one file would mix their runs; the seed job keeps its log."""
    path = write_toml(tmp_path / "c.toml", {
        "space-mirror": {"source": "/space"},
        "photos": {"source": "/photos", "destination": ":b2:photos"},
        "docs": {"source": "/docs", "log_file": "/var/log/custom.log"},
    })
    assert load_job(path, "space-mirror").log_file == Path("/var/log/space-mirror.log")
    assert load_job(path, "photos").log_file == Path("/var/log/space-mirror-photos.log")
    assert load_job(path, "docs").log_file == Path("/var/log/custom.log")


def test_every_job_field_is_a_key_coerced_from_its_type(tmp_path: Path) -> None:
    """A new key is one Job field: the loader derives its TOML key and its coercion from the
    field's type. Each field's default, written as TOML, loads back unchanged."""
    from dataclasses import fields

    keys = cfg.toml_keys()
    settable = [f for f in fields(Job) if f.name not in ("name", "env_file_is_default",
                                                          "adhoc_of")]
    assert {f.name for f in settable} <= set(keys.values())
    seed = Job()
    table: dict[str, object] = {}
    samples = {"lock_file": "/tmp/l.lock", "metrics_file": "/tmp/m.prom",
               "summary_file": "/tmp/s.json", "on_success": "true", "on_failure": "false",
               "rclone": "/usr/bin/rclone", "max_delete": 7, "max_delete_percent": 12.5,
               "sentinel": ".mirror-source", "bwlimit": "08:00,512k 19:00,off",
               "run_dir": "/tmp/run/t", "max_duration": 14400.0, "window_end": "07:00",
               "ping_url": "https://hc-ping.example/uuid"}
    for f in settable:
        value = getattr(seed, f.name)
        value = samples.get(f.name, value)
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, tuple):
            value = list(value)
        table[f.name] = value
    job = load_job(write_toml(tmp_path / "c.toml", {"t": table}), "t")
    for f in settable:
        want = table[f.name]
        got = getattr(job, f.name)
        got = str(got) if isinstance(got, Path) else list(got) if isinstance(got, tuple) else got
        assert got == want, f.name


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="non-negative number"):
        load_job(write(tmp_path, f"[jobs.t]\nremote_timeout = {value}\n"), None)


def test_adhoc_job_names_and_paths() -> None:
    """--source/--dest make a job of their own; the same pair always gets the same name."""
    seed = load_job(None, None)
    adhoc = load_job(None, None, Overrides(source="/srv/a", destination=":b2:test-bucket"))
    assert adhoc.name == cfg.adhoc_name("/srv/a", ":b2:test-bucket")
    assert adhoc.name.startswith("adhoc-a-test-bucket-") and adhoc.adhoc_of == seed.name
    assert adhoc == load_job(None, None, Overrides(source="/srv/a",
                                                   destination=":b2:test-bucket"))
    assert adhoc.name != load_job(None, None, Overrides(source="/srv/b")).name
    for path in ("lock_path", "summary_path", "metrics_path", "log_file"):
        assert getattr(adhoc, path) != getattr(seed, path), path
    # Its metrics stay out of node_exporter's folder: no stale series for a one-off run.
    assert adhoc.metrics_path.parent == adhoc.summary_path.parent
    # An explicit --log is kept; the same source and destination is not ad hoc.
    assert load_job(None, None, Overrides(source="/srv/a", log_file="/tmp/x.log")).log_file \
        == Path("/tmp/x.log")
    assert load_job(None, None, Overrides(source=seed.source)) == seed


@pytest.mark.parametrize(("flags", "transfers"), [
    (("--fast-list", "--transfers", "16", "--track-renames"), 16),
    (("--transfers=8",), 8),
    ((), 4),  # rclone's default
    (("--transfers",), 4),  # no value: rclone would refuse it; the default is the guess
    (("--transfers", "lots"), 4),
    (("--checkers", "16"), 4),
    (("--transfers", "4", "--track-renames", "--transfers=16"), 16),  # the last one counts
])
def test_job_transfers_reads_the_flag_as_rclone_does(flags: tuple[str, ...],
                                                     transfers: int) -> None:
    assert Job(flags=flags).transfers == transfers
