"""The recurring jobs are on the calendar the README promises, and flows never carry secrets."""

from __future__ import annotations

import pytest

from backoffice.config import Settings


def test_every_job_has_its_schedule_in_german_time() -> None:
    from flows.schedule import deployments

    plans = {d.name: (d.schedules[0].schedule, d.entrypoint) for d in deployments()}
    assert set(plans) == {"mahnlauf", "zahlungsuebersicht", "datev-monatsexport"}
    crons = {name: (s.cron, s.timezone) for name, (s, _) in plans.items()}
    assert crons == {
        "mahnlauf": ("0 6 * * 1-5", "Europe/Berlin"),
        "zahlungsuebersicht": ("30 6 * * 1-5", "Europe/Berlin"),
        "datev-monatsexport": ("0 6 3 * *", "Europe/Berlin"),
    }
    assert plans["mahnlauf"][1] == "flows/dunning.py:dunning_flow"
    assert all(not d.parameters for d in deployments()), "settings come from the process"


def test_flow_settings_leave_secrets_to_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.runtime import overrides_of

    settings = Settings(
        smtp={"host": "mail.example", "password": "geheim"},
        intake={"mail": {"mailboxes": [{"host": "imap.example", "user": "u", "password": "pw"}]}},
    )
    data = overrides_of(settings)
    assert "geheim" not in repr(data) and "pw" not in str(data["intake"]["mail"])
    assert "**" not in repr(data)
    assert data["smtp"]["host"] == "mail.example"
    monkeypatch.setenv("BACKOFFICE_SMTP__PASSWORD", "aus-der-umgebung")
    rebuilt = Settings(**data)
    assert rebuilt.smtp.host == "mail.example"
    assert rebuilt.smtp.password.get_secret_value() == "aus-der-umgebung"
