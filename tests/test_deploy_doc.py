"""docs/deploy.md is a runbook: each command in its `sh` blocks either runs here (facilitator commands as
--help, gunicorn --check-config, nginx -t on the sample server block, systemd-analyze verify on the
units, logrotate --debug on the sample rotation) or is named below as one that changes a machine and is
only documented. A command of another kind fails the test until someone decides which it is."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest

from .serving import BIN, ROOT, SQLITE_RUN_ONLY, instance_env

pytestmark = [pytest.mark.undated, SQLITE_RUN_ONLY]  # reads a document and runs commands: no date, no database

DOC = ROOT / "docs" / "deploy.md"
VENV = "/opt/facilitator/.venv/bin/"
# Programs whose commands change a machine (users, packages, databases, services, network): documented,
# not run by the tests.
DOCUMENTED_ONLY = {"adduser", "git", "bash", "python3", "pip", "createuser", "createdb", "install", "systemctl",
                   "journalctl", "curl", "cd"}


def blocks(language: str) -> list[str]:
    """The contents of the document's code blocks fenced with this language."""
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def commands() -> list[list[str]]:
    """Every command of the `sh` blocks, split into words (`a && b` gives two; `sudo -u X sh -c '...'`
    gives the command inside)."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            for part in line.split("&&"):
                words = shlex.split(part)
                if words[:2] == ["sudo", "-u"]:
                    inner = words[words.index("-c") + 1]
                    words = shlex.split(inner.split(";")[-1])
                found.append(words)
    return found


def program(words: list[str]) -> str:
    """The program a command runs, without the install folder."""
    return words[0].removeprefix(VENV)


def test_every_command_in_the_document_is_either_checked_here_or_documented_only():
    checked = {"facilitator", "gunicorn", "nginx", "systemd-analyze", "logrotate", "pybabel"}
    unknown = [" ".join(words) for words in commands() if program(words) not in checked | DOCUMENTED_ONLY]
    assert unknown == [], "decide whether these run in tests/test_deploy_doc.py or are documented only"
    assert {program(words) for words in commands()} >= checked  # the checks below have something to check


def test_each_facilitator_command_exists_with_the_options_it_is_given():
    runs = [words for words in commands() if program(words) == "facilitator"]
    assert {words[1] for words in runs} >= {"init", "backup"}
    for words in runs:
        subcommand = [w for w in words[1:] if not w.startswith("-")][:1]
        result = subprocess.run([str(BIN / "facilitator"), *subcommand, "--help"], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        for option in (w.split("=")[0] for w in words[1:] if w.startswith("--")):
            assert option in result.stdout, f"{' '.join(words)}: no option {option} in its --help"


def test_the_worker_named_by_the_systemd_unit_exists():
    unit = next(block for block in blocks("ini") if "Description=facilitator background worker" in block)
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
    result = subprocess.run([str(BIN / program(exec_start)), *exec_start[1:], "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_gunicorn_check_config_loads_the_app(tmp_path):
    words = next(words for words in commands() if program(words) == "gunicorn")
    assert words[1:] == ["--check-config", "-c", "gunicorn.conf.py"]
    env = instance_env(tmp_path / "instance")
    result = subprocess.run([str(BIN / "gunicorn"), *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    env.pop("SECRET_KEY")
    refused = subprocess.run([str(BIN / "gunicorn"), *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and "SECRET_KEY is not set" in refused.stdout + refused.stderr


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt install nginx-light)")
def test_the_nginx_sample_passes_nginx_t(tmp_path):
    assert any(program(words) == "nginx" and words[1:] == ["-t"] for words in commands())
    (server,) = blocks("nginx")
    assert "X-Forwarded-Proto" in server and "Strict-Transport-Security" in server
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=iop.example.org", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    server = (server.replace("/etc/letsencrypt/live/iop.example.org/privkey.pem", str(key))
              .replace("/etc/letsencrypt/live/iop.example.org/fullchain.pem", str(cert))
              .replace("/var/log/nginx/", f"{tmp_path}/"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n  access_log {tmp_path}/access.log;\n  client_body_temp_path {tmp_path};\n"
                    f"{server}\n}}\n")
    result = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    assert any(program(words) == "systemd-analyze" for words in commands())
    units = [block for block in blocks("ini") if "[Service]" in block]
    assert len(units) == 2
    paths = []
    for name, unit in zip(("facilitator-web.service", "facilitator-worker.service"), units, strict=True):
        # The real install folder and user are the deployment's; here: this checkout's venv and root.
        unit = unit.replace(VENV, f"{BIN}/").replace("/opt/facilitator/app", str(ROOT))
        unit = re.sub(r"^(User|Group)=.*$", r"\1=root", unit, flags=re.M)
        unit = unit.replace("EnvironmentFile=/etc/facilitator/environment", f"EnvironmentFile={tmp_path}/env")
        (tmp_path / name).write_text(unit)
        paths.append(str(tmp_path / name))
    (tmp_path / "env").write_text("SECRET_KEY=x\n")
    result = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if tmp_path.name in line or "facilitator" in line]
    assert result.returncode == 0 and problems == [], result.stderr


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is not installed")
def test_the_log_rotation_sample_passes_logrotate_debug(tmp_path):
    (rotation,) = blocks("conf")
    conf = tmp_path / "nginx"
    conf.write_text(rotation.replace("/var/log/nginx/", f"{tmp_path}/"))
    result = subprocess.run(["logrotate", "--debug", "--state", str(tmp_path / "state"), str(conf)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_every_environment_variable_the_app_reads_is_documented():
    read = set()
    for source in [*(ROOT / "facilitator").rglob("*.py"), ROOT / "gunicorn.conf.py"]:
        text = source.read_text()
        read |= set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z_]+)\"", text))
        for names in re.findall(r"for name in \(([^)]*)\):\n\s+if os\.environ", text):  # config.py's loops
            read |= set(re.findall(r"\"([A-Z_]+)\"", names))
    read -= {"FLASK_DEBUG", "FACILITATOR_PASSWORD", "FACILITATOR_TEST_NOW", "TEST_DATABASE_URL", "PGPASSWORD"}
    documented = set(re.findall(r"^\| `([A-Z_]+)", DOC.read_text(), re.M))
    documented |= set(re.findall(r"`([A-Z_]+)`", DOC.read_text()))
    assert sorted(read - documented) == []


def test_the_translation_step_compiles_the_spanish_catalog(tmp_path):
    """`pybabel compile -d facilitator/translations` as written, on a copy of the folder."""
    runs = [words for words in commands() if program(words) == "pybabel"]
    assert runs and all(words[1:] == ["compile", "-d", "facilitator/translations"] for words in runs)
    folder = tmp_path / "translations"
    shutil.copytree(ROOT / "facilitator" / "translations", folder,
                    ignore=shutil.ignore_patterns("*.mo"))
    result = subprocess.run([str(BIN / "pybabel"), "compile", "-d", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (folder / "es" / "LC_MESSAGES" / "messages.mo").stat().st_size > 10_000
