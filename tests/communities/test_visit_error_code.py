"""Inviting to a compound one does not live in: the error names the compound in words of
the reader's language, and the error code stays the API's own ("invalid")."""

from __future__ import annotations

from tests.communities.test_visits import invite_body


def test_the_wrong_compound_is_named_in_the_message_not_in_the_error_code(client, compound):
    for lang, words in (("zh-CN", "您不是小区 520102006999 的住户。"),
                        ("en", "You do not live in community 520102006999.")):
        resp = client.post("/api/v1/visits", json=invite_body(community="520102006999"),
                           headers={**compound.residents[0].headers, "Accept-Language": lang})
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "invalid"
        assert error["message"] == words and error["fields"]["community"] == words
