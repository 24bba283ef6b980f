"""EU DCC test vectors: all must pass, and our checks must notice broken data."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from passtrace.cli.codec import app
from passtrace.codec import SigningKey, encode_pass
from passtrace.codec.conformance import find_vectors, run_conformance
from passtrace.codec.qr import qr_png

VECTORS = Path(__file__).resolve().parents[1] / "data" / "dcc-testdata"
SAMPLE = VECTORS / "SE" / "2DCode" / "raw" / "1.json"  # every field, every check
ALL_CHECKS = {
    "EXPECTEDPICTUREDECODE",
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDDECODE",
    "EXPECTEDVERIFY",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDVALIDJSON",
}


def test_vectors_keep_their_license() -> None:
    assert (VECTORS / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "T-Systems" in (VECTORS / "NOTICE").read_text()


def test_all_vectors_pass() -> None:
    result = run_conformance(VECTORS)
    assert result["total"] == len(find_vectors(VECTORS)) > 300
    assert result["failed"] == []
    assert result["passed"] == result["total"]
    # Every check we implement was exercised, in both directions where vectors allow.
    assert all(counts["passed"] > 0 for counts in result["checks"].values())
    assert "EXPECTEDKEYUSAGE" in result["not_tested"]  # business rule, out of scope


def test_irish_raw_folder_is_found() -> None:
    names = {p.relative_to(VECTORS).as_posix() for p in find_vectors(VECTORS)}
    assert "IE/2DCode/Raw/1.json" in names


def _sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def _run(tmp_path: Path, vector: Any, name: str = "1.json", raw: str = "raw") -> dict[str, Any]:
    folder = tmp_path / "XX" / "2DCode" / raw
    folder.mkdir(parents=True, exist_ok=True)
    text = vector if isinstance(vector, str) else json.dumps(vector, ensure_ascii=False)
    (folder / name).write_text(text, encoding="utf-8")
    return run_conformance(tmp_path)


def _failed_checks(result: dict[str, Any]) -> set[str]:
    return {f["check"] for f in result["failed"]}


def test_sample_passes_every_check(tmp_path: Path) -> None:
    vector = _sample()
    assert set(vector["EXPECTEDRESULTS"]) >= ALL_CHECKS
    result = _run(tmp_path, vector, raw="RAW")
    assert result["passed"] == 1 and result["failed"] == []


def _flip_hex(text: str, index: int) -> str:
    raw = bytearray(bytes.fromhex(text))
    raw[index] ^= 1
    return raw.hex()


MUTATIONS = {
    "json name": (
        lambda v: v["JSON"]["nam"].update(fn="Someone Else"),
        {"EXPECTEDDECODE", "EXPECTEDVALIDJSON"},
    ),
    "json number": (
        lambda v: v["JSON"]["v"][0].update(dn=v["JSON"]["v"][0]["dn"] + 1),
        {"EXPECTEDDECODE", "EXPECTEDVALIDJSON"},
    ),
    "signature": (
        lambda v: v.update(COSE=_flip_hex(v["COSE"], -1)),
        {"EXPECTEDVERIFY", "EXPECTEDCOMPRESSION"},
    ),
    "clock after exp": (
        lambda v: v["TESTCTX"].update(VALIDATIONCLOCK="2031-01-01T00:00:00Z"),
        {"EXPECTEDEXPIRATIONCHECK"},
    ),
    "clock before iat": (
        lambda v: v["TESTCTX"].update(VALIDATIONCLOCK="2020-01-01T00:00:00Z"),
        {"EXPECTEDEXPIRATIONCHECK"},
    ),
    "prefix text": (
        lambda v: v.update(PREFIX=v["PREFIX"][:-1] + ("A" if v["PREFIX"][-1] != "A" else "B")),
        {"EXPECTEDUNPREFIX", "EXPECTEDPICTUREDECODE", "EXPECTEDVALIDJSON"},
    ),
    "compressed bytes": (
        lambda v: v.update(COMPRESSED=_flip_hex(v["COMPRESSED"], 20)),
        {"EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION"},
    ),
    "other certificate": (
        lambda v: v["TESTCTX"].update(CERTIFICATE=_sample_cert("DE")),
        {"EXPECTEDVERIFY"},
    ),
    "expired certificate": (
        lambda v: v["TESTCTX"].update(CERTIFICATE=_expired_cert()),
        {"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK"},
    ),
}


def _expired_cert() -> str:
    """Return a self-signed P-256 certificate that was valid only in 2020."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2020, 12, 31, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _sample_cert(country: str) -> str:
    path = VECTORS / country / "2DCode" / "raw" / "1.json"
    return json.loads(path.read_text())["TESTCTX"]["CERTIFICATE"]


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_checks_notice_broken_data(tmp_path: Path, name: str) -> None:
    mutate, expected_failures = MUTATIONS[name]
    vector = _sample()
    mutate(vector)
    result = _run(tmp_path, vector)
    assert _failed_checks(result) == expected_failures
    assert result["passed"] == 0


def test_unexpected_success_is_a_failure(tmp_path: Path) -> None:
    vector = _sample()
    vector["EXPECTEDRESULTS"]["EXPECTEDVERIFY"] = False
    result = _run(tmp_path, vector)
    assert result["failed"] == [
        {
            "file": "XX/2DCode/raw/1.json",
            "check": "EXPECTEDVERIFY",
            "detail": "succeeded but the vector expects a failure",
        }
    ]


def test_key_casing_does_not_matter(tmp_path: Path) -> None:
    vector = _sample()
    lowered = {k.lower(): v for k, v in vector.items()}
    lowered["testctx"] = {k.lower(): v for k, v in vector["TESTCTX"].items()}
    lowered["expectedresults"] = {k.lower(): v for k, v in vector["EXPECTEDRESULTS"].items()}
    assert _run(tmp_path, lowered)["passed"] == 1


UNTIDY: list[Any] = [
    "{not json",
    "[1, 2, 3]",
    {"EXPECTEDRESULTS": [True]},
    {
        "PREFIX": 5,
        "COSE": "zz",
        "2DCODE": "!!",
        "BASE45": None,
        "COMPRESSED": 3,
        "CBOR": "a1",
        "JSON": [1],
        "TESTCTX": {"CERTIFICATE": "garbage", "VALIDATIONCLOCK": "soon"},
        "EXPECTEDRESULTS": {k: True for k in ALL_CHECKS} | {"EXPECTEDFUTURE": True},
    },
    {"EXPECTEDRESULTS": {"EXPECTEDVERIFY": "maybe", "EXPECTEDDECODE": "TRUE"}, "CBOR": "f6"},
    {
        "COSE": "d28440a040f6",
        "TESTCTX": "x",
        "EXPECTEDRESULTS": {"EXPECTEDVERIFY": True, "EXPECTEDEXPIRATIONCHECK": True},
    },
]


@pytest.mark.parametrize("index", range(len(UNTIDY)))
def test_untidy_vectors_never_crash(tmp_path: Path, index: int) -> None:
    result = _run(tmp_path, UNTIDY[index])
    assert result["total"] == 1
    assert result["passed"] == 0 and result["failed"]
    assert all(set(f) == {"file", "check", "detail"} for f in result["failed"])


def test_missing_input_is_skipped_not_failed(tmp_path: Path) -> None:
    vector = _sample()
    del vector["2DCODE"]
    result = _run(tmp_path, vector)
    assert result["passed"] == 1
    assert result["skipped"][0]["check"] == "EXPECTEDPICTUREDECODE"


def test_cli_conformance(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["conformance", str(VECTORS)])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout[ok.stdout.index("{") :])
    assert summary["passed"] == summary["total"]
    _run(tmp_path, "{broken")
    bad = runner.invoke(app, ["conformance", str(tmp_path)])
    assert bad.exit_code == 1


def test_cli_inspect(tmp_path: Path, es256_key: SigningKey, make_claims) -> None:
    runner = CliRunner()
    text = encode_pass(make_claims(), es256_key)
    (tmp_path / "pass.txt").write_text(text + "\n")
    (tmp_path / "pass.png").write_bytes(qr_png(text))
    for source in (text, f"@{tmp_path / 'pass.txt'}", str(tmp_path / "pass.png")):
        out = runner.invoke(app, ["inspect", source])
        assert out.exit_code == 0, out.output
        info = json.loads(out.stdout)
        assert info["claims"]["holder"] == "张*" and info["verified"] is False
    dcc = json.loads(SAMPLE.read_text())
    png = tmp_path / "dcc.png"
    png.write_bytes(base64.b64decode(dcc["2DCODE"]))
    info = json.loads(runner.invoke(app, ["inspect", f"@{png}"]).stdout)
    assert info["prefix"] == "HC1" and "-260" in info["cwt"]
    bad = runner.invoke(app, ["inspect", "PT1:bb8"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["error"] == "bad_base45"


def test_vectors_in_versioned_folders_are_found_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "PT" / "1.0.0" / "2DCode" / "raw"
    folder.mkdir(parents=True)
    (folder / "1.json").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_conformance(tmp_path)
    assert result["total"] == 1 and result["passed"] == 1
    verify = result["checks"]["EXPECTEDVERIFY"]
    assert verify["found"] == verify["run"] == verify["passed"] == 1
    out = CliRunner().invoke(app, ["conformance", str(tmp_path)])
    assert out.exit_code == 0 and "EXPECTEDVERIFY" in out.output


def _resigned(curve: Any, hash_alg: Any, alg_id: int) -> dict[str, Any]:
    """The sample vector signed again by a fresh key on `curve`, with its certificate."""
    import hashlib
    import zlib

    import cbor2
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509.oid import NameOID

    from passtrace.codec.base45 import b45encode
    from passtrace.codec.cose import sig_structure

    key = ec.generate_private_key(curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DSC " + curve.name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(datetime(2021, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2031, 1, 1, tzinfo=UTC))
            .sign(key, hash_alg))
    der = cert.public_bytes(serialization.Encoding.DER)
    vector = _sample()
    payload = cbor2.loads(bytes.fromhex(vector["COSE"])).value[2]
    protected = cbor2.dumps({1: alg_id, 4: hashlib.sha256(der).digest()[:8]})
    r, s = decode_dss_signature(key.sign(sig_structure(protected, payload),
                                         ec.ECDSA(hash_alg)))
    size = (curve.key_size + 7) // 8
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload,
                                          r.to_bytes(size, "big") + s.to_bytes(size, "big")]))
    compressed = zlib.compress(cose, 9)
    text = b45encode(compressed)
    vector.update(COSE=cose.hex(), COMPRESSED=compressed.hex(), BASE45=text,
                  PREFIX="HC1:" + text)
    vector["2DCODE"] = base64.b64encode(qr_png("HC1:" + text)).decode()
    vector["TESTCTX"]["CERTIFICATE"] = base64.b64encode(der).decode()
    return vector


@pytest.mark.parametrize("alg", ["ES384", "ES512"])
def test_certificates_on_p384_and_p521_verify(tmp_path: Path, alg: str) -> None:
    """Upstream vectors and real trust lists carry P-384 and P-521 signing certificates."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    curve, hash_alg, alg_id = {"ES384": (ec.SECP384R1(), hashes.SHA384(), -35),
                               "ES512": (ec.SECP521R1(), hashes.SHA512(), -36)}[alg]
    vector = _resigned(curve, hash_alg, alg_id)
    result = _run(tmp_path, vector)
    assert result["failed"] == [] and result["passed"] == 1
    assert result["checks"]["EXPECTEDVERIFY"]["passed"] == 1
    # One bit of the signature changed: it no longer verifies (and COMPRESSED no
    # longer inflates to this COSE); the rest still decodes.
    cose = bytearray(bytes.fromhex(vector["COSE"]))
    cose[-1] ^= 1
    vector["COSE"] = cose.hex()
    broken = _run(tmp_path / "broken", vector)
    assert _failed_checks(broken) == {"EXPECTEDVERIFY", "EXPECTEDCOMPRESSION"}
