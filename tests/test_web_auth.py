"""Signing in to the workspace, and what protects it: sessions, CSRF, sign-in limits, headers, roles."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign import people
from campaign.queue.tables import users, web_sessions
from tests.web_support import (PASSWORD, add_people, client, csrf, csrf_of, login_token, make_workspace, sign_in,
                               signed_in_client)


@pytest.fixture
def app(db):
    add_people(db)
    application, ws = make_workspace(db)
    application.state.ws = ws
    return application


def test_every_page_without_a_session_sends_the_reader_to_sign_in(app):
    http = client(app)
    for path in ("/", "/calendar", "/approvals", "/history", "/problems"):
        response = http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_signing_in_leads_back_to_the_page_asked_for_and_signing_out_ends_the_session(app, db):
    http = client(app)
    first = http.get("/history?state=sent")
    target = first.headers["location"]
    form = http.get(target)
    assert 'name="next" value="/history?state=sent"' in form.text
    response = http.post("/login", data={"name": "viewer", "password": PASSWORD, "next": "/history?state=sent",
                                         "login_token": login_token(form.text)})
    assert response.status_code == 303 and response.headers["location"] == "/history?state=sent"
    cookie = response.cookies.get("praatmee_session")
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "secure" not in set_cookie
    with db.transaction() as connection:
        stored = connection.execute(select(web_sessions.c.token_hash)).scalars().all()
    assert len(stored) == 1 and cookie not in stored[0] and stored[0] not in cookie
    page = http.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/calendar"

    token = csrf(http)
    out = http.post("/logout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    with db.transaction() as connection:
        assert connection.execute(select(web_sessions)).all() == []
    http.cookies.set("praatmee_session", cookie)  # a copy of the old cookie no longer lets anyone in
    assert http.get("/calendar").status_code == 303


def test_a_wrong_password_or_unknown_name_gets_the_same_answer(app):
    http = client(app)
    wrong = sign_in(http, "viewer", "not the password at all")
    unknown = sign_in(http, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Onbekende naam of verkeerd wachtwoord" in wrong.text
    assert "Onbekende naam of verkeerd wachtwoord" in unknown.text
    assert "praatmee_session" not in wrong.cookies


def test_each_sign_in_starts_a_new_session_id(app):
    http = client(app)
    sign_in(http, "viewer")
    first = http.cookies.get("praatmee_session")
    sign_in(http, "viewer")
    second = http.cookies.get("praatmee_session")
    assert first and second and first != second
    other = client(app)
    other.cookies.set("praatmee_session", first)
    assert other.get("/calendar").status_code == 303, "the replaced session must be gone"


def test_a_forged_or_foreign_cookie_is_not_a_session(app):
    http = client(app)
    http.cookies.set("praatmee_session", "eyJhbGciOiJub25lIn0.forged")
    assert http.get("/calendar").status_code == 303


def test_sign_in_is_refused_without_the_forms_token(app):
    http = client(app)
    response = http.post("/login", data={"name": "viewer", "password": PASSWORD, "login_token": "x" * 64})
    assert response.status_code == 403
    assert "praatmee_session" not in response.cookies


def test_guessing_is_slowed_per_name_and_per_address(app):
    ws = app.state.ws
    http = client(app)
    for _ in range(5):
        assert sign_in(http, "approver", "wrong guess number one").status_code == 401
    locked = sign_in(http, "approver")  # even the right password waits now
    assert locked.status_code == 429 and "15 minuten" in locked.text
    assert sign_in(http, "viewer").status_code == 303, "another name from the same address may still sign in"
    ws.clock.moment += timedelta(minutes=16)
    assert sign_in(http, "approver").status_code == 303

    for number in range(20):
        sign_in(http, f"guess{number}", "wrong guess number two")
    assert sign_in(http, "editor").status_code == 429, "one address trying many names is stopped too"


def test_a_successful_sign_in_forgives_earlier_mistakes(app):
    http = client(app)
    for _ in range(4):
        sign_in(http, "editor", "a wrong password here")
    assert sign_in(http, "editor").status_code == 303
    for _ in range(4):
        sign_in(http, "editor", "a wrong password here")
    assert sign_in(http, "editor").status_code == 303


def test_after_signing_in_the_next_page_is_never_another_site(app):
    http = client(app)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = sign_in(http, "viewer", next_page=target)
        assert response.headers["location"] == "/", target


def test_every_response_carries_the_protective_headers(app):
    http = signed_in_client(app, "viewer")
    for path in ("/login", "/calendar", "/static/workspace.css", "/no-such-page"):
        headers = http.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'"), path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "base-uri 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_the_interface_is_dutch_by_default_and_english_on_request(app, db):
    http = signed_in_client(app, "viewer")
    page = http.get("/no-such-page")
    assert page.status_code == 404
    assert '<html lang="nl">' in page.text and "Afmelden" in page.text
    token = csrf_of(page.text)
    assert http.post("/account/language", data={"csrf": token, "locale": "en", "next": "/x"}).status_code == 303
    page = http.get("/no-such-page")
    assert '<html lang="en">' in page.text and "Sign out" in page.text
    assert people.get(db, "viewer").locale == "en"
    assert http.post("/account/language", data={"csrf": "wrong", "locale": "nl"}).status_code == 403
    assert people.get(db, "viewer").locale == "en"


def test_an_english_browser_sees_english_before_signing_in(app):
    page = client(app).get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in page.text and "Sign in" in page.text


def test_changing_a_password_or_removing_a_person_signs_them_out(app, db):
    http = signed_in_client(app, "editor")
    people.set_password(db, "editor", "another long password", app.state.ws.now())
    assert http.get("/calendar").status_code == 303
    http = signed_in_client(app, "viewer")
    people.remove(db, "viewer")
    assert http.get("/calendar").status_code == 303


def test_an_idle_session_expires(app):
    http = signed_in_client(app, "viewer")
    app.state.ws.clock.moment += timedelta(hours=13)
    assert http.get("/calendar").status_code == 303


def test_passwords_are_stored_only_as_argon2_hashes(db):
    people.add(db, "anna", "approver", "een heel geheim wachtwoord", __import__("datetime").datetime.now(
        __import__("datetime").timezone.utc))
    with db.transaction() as connection:
        stored = connection.execute(select(users.c.password_hash).where(users.c.name == "anna")).scalar()
    assert stored.startswith("$argon2id$") and "geheim" not in stored


def test_users_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from campaign.cli import main

    database = tmp_path / "campaign.db"

    def campaign(*args, stdin=None):
        return CliRunner().invoke(main, [*args, "--db", f"sqlite:///{database}"], input=stdin)

    added = campaign("users", "add", "anna", "--role", "approver", "--password-stdin", stdin="lang genoeg wachtwoord\n")
    assert added.exit_code == 0, added.output
    again = campaign("users", "add", "anna", "--role", "viewer", "--password-stdin", stdin="lang genoeg wachtwoord\n")
    assert again.exit_code == 2 and "already exists" in again.output and "Traceback" not in again.output
    short = campaign("users", "add", "bert", "--role", "viewer", "--password-stdin", stdin="kort\n")
    assert short.exit_code == 2 and "too short" in short.output
    listed = campaign("users", "list")
    assert "anna" in listed.output and "approver" in listed.output and "wachtwoord" not in listed.output
    assert campaign("users", "role", "anna", "admin").exit_code == 0
    assert "admin" in campaign("users", "list").output
    assert campaign("users", "passwd", "anna", "--password-stdin", stdin="nog een lang wachtwoord\n").exit_code == 0
    assert campaign("users", "remove", "anna").exit_code == 0
    missing = campaign("users", "remove", "anna")
    assert missing.exit_code == 2 and "no user 'anna'" in missing.output
    assert b"lang genoeg" not in database.read_bytes()


def test_a_form_too_big_to_read_is_a_clear_400_not_a_crash(app):
    http = signed_in_client(app, "viewer")
    response = http.post("/logout", files={f"field{n}": (None, "x") for n in range(1001)})
    assert response.status_code == 400
    assert "Dit verzoek kon niet worden verwerkt." in response.text and "Traceback" not in response.text
    assert http.get("/calendar").status_code == 200, "and nothing happened: still signed in"
