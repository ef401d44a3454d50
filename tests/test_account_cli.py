"""`facilitator users list|invite|reset|deactivate|activate` and `facilitator init --program --email`:
each command, and each refusal (non-zero exit, a clear message, nothing changed)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from facilitator import create_app
from facilitator.auth import invites
from facilitator.auth.models import AccountToken, User
from facilitator.cli import register_commands
from facilitator.extensions import db

URL = re.compile(r"^(http://127\.0\.0\.1:5000/set-password/(\S+))$", re.M)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _token(output: str) -> str:
    match = URL.search(output)
    assert match, output
    return match.group(2)


@pytest.fixture
def program(make_program):
    """The first program (the commands' default) is whatever exists first; name one explicitly."""
    return make_program("Harbor Clinic")


def test_invite_a_facilitator_prints_a_working_link(runner, program):
    result = runner.invoke(args=["users", "invite", "Lee@Example.org", "--role", "facilitator", "--name", "Lee Park",
                                 "--program", program.slug])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lee@example.org"))
    assert user.display_name == "Lee Park" and user.password_hash is None and user.program_id == program.id
    invites.use_link(_token(result.output), "quiet-harbor-lanterns")
    assert user.check_password("quiet-harbor-lanterns")


def test_invite_a_participant_by_record_number(runner, program, make_participant):
    person = make_participant(program, name="Robin")
    result = runner.invoke(args=["users", "invite", "robin@example.org", "--role", "participant", "--participant",
                                 person.record_number, "--program", program.slug])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.participant_id == person.id))
    assert user.email == "robin@example.org" and user.display_name == "Robin"
    assert invites.find_link(_token(result.output)).user_id == user.id


@pytest.mark.parametrize("args, message", [
    (["--role", "participant", "--participant", "NO-SUCH"], "no participant has the record number NO-SUCH"),
    (["--role", "participant"], "a participant account needs --participant RECORD_NUMBER"),
    (["--role", "facilitator", "--participant", "R-1"], "--participant is only for --role participant"),
    (["--role", "facilitator", "--program", "no-such-program"], "no program has the short name no-such-program"),
    (["--role", "janitor"], "Invalid value for '--role'"),
])
def test_invite_refusals_change_nothing(runner, program, args, message):
    before = (_count(User), _count(AccountToken))
    if "--program" not in args:
        args = [*args, "--program", program.slug]
    result = runner.invoke(args=["users", "invite", "x@example.org", *args])
    assert result.exit_code != 0 and message in result.output
    assert (_count(User), _count(AccountToken)) == before


def test_invite_an_existing_email_is_refused(runner, make_user, program):
    user = make_user("facilitator", program=program)
    result = runner.invoke(args=["users", "invite", user.email.upper(), "--role", "director", "--program", program.slug])
    assert result.exit_code == 1 and f"There is already an account with the email {user.email}" in result.output


def test_reset_prints_a_new_link_and_voids_the_old(runner, make_user):
    user = make_user("facilitator")
    old = invites.make_link(user, "reset")
    result = runner.invoke(args=["users", "reset", user.email])
    assert result.exit_code == 0 and "works once" in result.output
    with pytest.raises(invites.LinkError):
        invites.find_link(old.token)
    assert invites.find_link(_token(result.output)).purpose == "reset"


def test_deactivate_and_activate(runner, make_user):
    boss = make_user("director")
    counselor = make_user("facilitator", program=boss.program)
    assert runner.invoke(args=["users", "deactivate", counselor.email]).exit_code == 0
    assert not counselor.active
    again = runner.invoke(args=["users", "deactivate", counselor.email])
    assert again.exit_code == 1 and "already deactivated" in again.output
    refused = runner.invoke(args=["users", "reset", counselor.email])
    assert refused.exit_code == 1 and "Reactivate it first" in refused.output
    assert runner.invoke(args=["users", "activate", counselor.email]).exit_code == 0
    assert counselor.active
    assert "already active" in runner.invoke(args=["users", "activate", counselor.email]).output


def test_the_last_director_cannot_be_deactivated_from_the_cli(runner, make_user):
    boss = make_user("director")
    result = runner.invoke(args=["users", "deactivate", boss.email])
    assert result.exit_code == 1 and "only active director" in result.output and boss.active


@pytest.mark.parametrize("command", ["reset", "deactivate", "activate"])
def test_an_unknown_email_exits_non_zero(runner, command):
    before = (_count(User), _count(AccountToken))
    result = runner.invoke(args=["users", command, "nobody@example.org"])
    assert result.exit_code == 1 and "no account has the email nobody@example.org" in result.output
    assert (_count(User), _count(AccountToken)) == before


def test_list_shows_each_account_with_status_and_two_factor(runner, make_user, program):
    boss = make_user("director", program=program)
    invited = runner.invoke(args=["users", "invite", "new@example.org", "--role", "facilitator", "--program",
                                  program.slug])
    assert invited.exit_code == 0
    lines = runner.invoke(args=["users", "list", "--program", program.slug]).output.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:3] == [boss.email, "director", "active"] and "last sign-in never" in lines[0]
    assert lines[1].split("\t")[:3] == ["new@example.org", "facilitator", "invited"] and "2FA off" in lines[1]
    unknown = runner.invoke(args=["users", "list", "--program", "nowhere"])
    assert unknown.exit_code == 1 and "no program has the short name nowhere" in unknown.output


def test_init_makes_the_program_and_first_director_with_a_one_time_link(tmp_path, monkeypatch):
    # An app on a database of its own: init migrates and commits, as on a new clinic's machine.
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("FACILITATOR_PASSWORD", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/instance/init.sqlite", "SECRET_KEY": "k",
                      "TESTING": True, "PASSWORD_HASH_COST": "fast"})
    register_commands(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init", "--program", "Harbor Recovery", "--email", "Boss@Harbor.example"])
    assert result.exit_code == 0, result.output
    assert "created director boss@harbor.example in Harbor Recovery" in result.output and "works once" in result.output
    token = _token(result.output)
    again = runner.invoke(args=["init", "--email", "boss@harbor.example"])
    assert again.exit_code == 0 and "users reset boss@harbor.example" in again.output
    scripted = runner.invoke(args=["init", "--email", "script@harbor.example", "--password", "ledger-of-tides-2026"])
    assert scripted.exit_code == 0 and "set-password" not in scripted.output, scripted.output
    with app.app_context():
        boss = db.session.scalar(select(User).where(User.email == "boss@harbor.example"))
        assert boss.role == "director" and boss.password_hash is None and boss.program.name == "Harbor Recovery"
        invites.use_link(token, "harbor-lights-at-dusk")
        db.session.commit()
        assert boss.check_password("harbor-lights-at-dusk")
        assert db.session.scalar(select(User).where(User.email == "script@harbor.example")).check_password(
            "ledger-of-tides-2026")
        db.session.remove()
        db.engine.dispose()
