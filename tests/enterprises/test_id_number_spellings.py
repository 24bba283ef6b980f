"""One ID number is one person however it was typed, on every path that takes one.

An outside test run found superscript digits answering 500 on every path (a batch of
five good rows and one such row stored nothing, three times) and Arabic-Indic digits
making a second person record for the same number. Every path now goes through
core.validators.normalize_id_number: full-width and superscript digits are the same
number, digits of other scripts are refused with a message saying so.
"""

from __future__ import annotations

from tests.enterprises.conftest import csv_bytes, id_number
from tests.people.spellings import EN, FOREIGN_DIGITS, arabic_indic, fullwidth, people_count


def test_staff_import_reads_full_width_numbers_as_the_same_person(client, world, session):
    url = f"/api/v1/enterprises/{world.ent['id']}/employees/import"

    def upload(rows):
        return client.post(url, headers={**world.admin.headers, **EN},
                           files={"file": ("staff.csv", csv_bytes(rows))},
                           data={"partial": "false"}).json()

    first = upload([["生产部", "王芳", fullwidth(id_number(21)), "13800001111", "A021"]])
    assert (first["imported"], first["problems"]) == (1, []), first
    people = people_count(session)
    again = upload([["生产部", "王芳", id_number(21), "13800001111", "A021"]])
    assert (again["imported"], again["unchanged"]) == (0, 1), again
    assert people_count(session) == people
    bad = upload([["生产部", "刘洋", arabic_indic(id_number(22)), "", "A022"]])
    assert bad["committed"] is False
    assert FOREIGN_DIGITS in bad["problems"][0]["message"]
