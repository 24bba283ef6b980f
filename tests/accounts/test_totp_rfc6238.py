"""RFC 6238 (and RFC 4226) test vectors, and what the code check accepts."""

from __future__ import annotations

import pytest

from passtrace.accounts import totp

# RFC 6238 Appendix B: the seeds are ASCII "12345678901234567890" repeated to the
# hash's block length, 8 digits.
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("when", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc6238_vectors(when: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        assert totp.totp(SEEDS[algorithm], when, digits=8, algorithm=algorithm) == expected


def test_rfc4226_hotp_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(SEEDS["SHA1"], i) for i in range(10)] == expected


def test_a_code_matches_its_step_and_one_either_side_only() -> None:
    key = totp.secret_bytes(totp.new_secret())
    now = 1_800_000_015.0
    code = totp.totp(key, now)
    step = totp.time_step(now)
    assert totp.matching_step(key, code, now) == step
    assert totp.matching_step(key, code, now + 30) == step  # typed as it rolled over
    assert totp.matching_step(key, code, now - 30) == step
    assert totp.matching_step(key, code, now + 90) is None
    for junk in ("", "12345", "1234567", "12345a", "１２３４５６", "٠١٢٣٤٥"):
        assert totp.matching_step(key, junk, now) is None


def test_the_secret_round_trips_through_base32_groups_and_the_uri() -> None:
    secret = totp.new_secret()
    assert len(totp.secret_bytes(secret)) == totp.SECRET_BYTES
    assert totp.secret_bytes(totp.grouped(secret).lower()) == totp.secret_bytes(secret)
    uri = totp.otpauth_uri(secret, account="li.wei", issuer="PassTrace")
    assert uri.startswith("otpauth://totp/PassTrace:li.wei?secret=" + secret)
    assert "issuer=PassTrace" in uri and "period=30" in uri
