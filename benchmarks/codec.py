"""Benchmark the pass codec: our decode+verify vs raw `cryptography` and vs pycose.

Run: python benchmarks/codec.py [--n N] [--rounds R]
Prints one JSON object as its last line (see docs/pass-format.md).
Rounds interleave the measurements and report medians, because this machine
is noisy: ratios from one run are what to compare, not absolute figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from importlib.metadata import version

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from passtrace.codec import PassClaims, SigningKey, TrustStore, decode_pass, encode_pass
from passtrace.codec.cose import parse_sign1
from passtrace.codec.qr import qr_version
from passtrace.codec.transport import unwrap

NOW = 1_767_225_600
BATCH = 100  # operations per timed batch; batches of each kind alternate


def typical_claims() -> PassClaims:
    """Return a typical pass: 2 areas, a plate, a Chinese masked name."""
    return PassClaims(
        pass_id=str(uuid.uuid4()),
        holder="张*",
        id_last4="123X",
        purpose="commute",
        valid_from=NOW - 3600,
        valid_until=NOW + 7 * 86400,
        issued_at=NOW - 3600,
        areas=("110105", "110108"),
        plate="京A12345",
    )


def interleaved(
    work: Mapping[str, tuple[Callable[[], object], int]], chunks: int
) -> dict[str, float]:
    """Time each callable in small alternating batches; return calls per second of each.

    Alternating batches make every measurement see the same background load,
    so the ratios stay meaningful on a busy two-core machine.
    """
    spent = dict.fromkeys(work, 0.0)
    for _ in range(chunks):
        for name, (fn, batch) in work.items():
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            spent[name] += time.perf_counter() - start
    return {name: chunks * batch / spent[name] for name, (_, batch) in work.items()}


def pycose_verifier(key: SigningKey, text: str) -> Callable[[], bool]:
    """Build the pycose path: our Base45/zlib unwrap, then pycose decode + verify."""
    from pycose.keys import EC2Key  # type: ignore[attr-defined]
    from pycose.keys.curves import P256
    from pycose.messages import Sign1Message  # type: ignore[attr-defined]

    public = key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    numbers = public.public_numbers()
    # The key object is built once, as our TrustStore builds its verifier once.
    cose_key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))

    def run() -> bool:
        msg = Sign1Message.decode(unwrap(text).cose)
        assert isinstance(msg, Sign1Message)  # decode() dispatches on CBOR tag 18
        msg.key = cose_key
        return bool(msg.verify_signature())

    return run


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="operations per round (ours, raw)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--pycose-n", type=int, default=0, help="pycose ops per round (n/10)")
    args = parser.parse_args(argv)
    pycose_n = args.pycose_n or max(args.n // 10, 10)

    key = SigningKey.generate("ES256")
    trust = TrustStore()
    trust.add(key.public_key())
    claims = typical_claims()
    text = encode_pass(claims, key)
    assert decode_pass(text, trust, now=NOW) == claims

    # Raw baseline: exactly the verify our decoder performs, same key and bytes.
    msg = parse_sign1(unwrap(text).cose)
    tbs, sig = msg.to_be_signed(), msg.signature
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public, ecdsa = key.public_key(), ec.ECDSA(hashes.SHA256())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, tbs, ecdsa)
    pycose_run = pycose_verifier(key, text)
    assert pycose_run(), "pycose must verify the same pass"

    chunks = max(args.n // BATCH, 1)
    pycose_batch = max(pycose_n // chunks, 1)
    work = {
        "ours": (lambda: decode_pass(text, trust, now=NOW), BATCH),
        "raw": (lambda: public.verify(der, tbs, ecdsa), BATCH),
        "pycose": (pycose_run, pycose_batch),
        "encode": (lambda: encode_pass(claims, key), BATCH),
    }
    samples: dict[str, list[float]] = {name: [] for name in work}
    for round_no in range(args.rounds):
        for name, rate in interleaved(work, chunks).items():
            samples[name].append(rate)
        print(
            f"round {round_no + 1}/{args.rounds}: "
            + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in samples.items()),
            file=sys.stderr,
        )
    med = {k: statistics.median(v) for k, v in samples.items()}
    # Ratios per round first (same background load), then their median.
    vs_raw = statistics.median(o / r for o, r in zip(samples["ours"], samples["raw"], strict=True))
    vs_pycose = statistics.median(
        o / p for o, p in zip(samples["ours"], samples["pycose"], strict=True)
    )

    summary: dict[str, object] = {
        "benchmark": "codec",
        "params": {
            "n": chunks * BATCH,
            "rounds": args.rounds,
            "pycose_n": chunks * pycose_batch,
            "alg": "ES256",
            "statistic": "median of rounds; batches of 100 interleaved",
            "pycose_path": "our unwrap + Sign1Message.decode + verify_signature",
            "python": platform.python_version(),
            "cryptography": version("cryptography"),
            "cbor2": version("cbor2"),
            "pycose": version("pycose"),
        },
        "results": {
            "decode_verify_per_s": round(med["ours"], 1),
            "raw_verify_per_s": round(med["raw"], 1),
            "pycose_decode_verify_per_s": round(med["pycose"], 1),
            "encode_sign_per_s": round(med["encode"], 1),
            "qr_version_m": qr_version(text),
            "pass_chars": len(text),
            "cose_bytes": len(unwrap(text).cose),
        },
        "ratios": {
            "vs_raw_verify": round(vs_raw, 3),
            "vs_pycose": round(vs_pycose, 2),
        },
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
