"""One ID number is one person however it was typed, on every path that takes one.

An outside test run found superscript digits answering 500 on every path (a batch of
five good rows and one such row stored nothing, three times) and Arabic-Indic digits
making a second person record for the same number. Every path now goes through
core.validators.normalize_id_number: full-width and superscript digits are the same
number, digits of other scripts are refused with a message saying so.
"""

from __future__ import annotations

from passtrace.demo import demo_id_number
from tests.people.spellings import (
    EN,
    FOREIGN_DIGITS,
    arabic_indic,
    fullwidth,
    people_count,
    superscript,
)


def _signup(client, id_number: str, username: str):
    return client.post("/api/v1/accounts/register", headers=EN, json={
        "username": username, "password": "long-enough-1", "name": "张三",
        "id_number": id_number, "phone": "13885012345"})


def test_sign_up_reads_full_width_and_superscript_digits_as_the_same_number(client, session):
    number = demo_id_number("520102", "19900307", "123")
    before = people_count(session)
    first = _signup(client, fullwidth(number), "fullwidth01")
    assert first.status_code == 201, first.text  # today: "not a valid region code"
    # Sign-up without proof creates no person record (accounts.binding); every spelling
    # is read as one valid number and none makes a person.
    for i, spelling in enumerate((superscript(number), number, f"{number[:6]} {number[6:]}")):
        resp = _signup(client, spelling, f"again0{i}")
        assert resp.status_code < 500, resp.text  # today: superscript → 500
    assert people_count(session) == before  # still one person for this number


def test_sign_up_refuses_digits_of_another_script_saying_so(client, session):
    before = people_count(session)
    resp = _signup(client, arabic_indic(demo_id_number("520102", "19900307", "123")), "ar01")
    assert resp.status_code == 422, resp.text
    assert FOREIGN_DIGITS in resp.json()["error"]["fields"]["id_number"]
    assert people_count(session) == before
