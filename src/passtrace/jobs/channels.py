"""How each outbox channel leaves the process: a signed JSON POST to its gateway."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from passtrace.core import gateway_signature
from passtrace.core.config import Settings


class DeliveryFailed(Exception):
    """One attempt failed; `retry` says whether another attempt could succeed."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def post_signed(url: str, payload: dict[str, Any], *, secret: str, idempotency_key: str,
                timeout_s: float) -> None:
    """POST `payload` once; raise DeliveryFailed unless the gateway answers 2xx.

    Idempotency-Key lets the gateway drop the rare second copy (a runner that died
    after sending but before recording it; its lease expires and the row is re-sent).
    """
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key,
        gateway_signature.HEADER: gateway_signature.sign(body, secret=secret)})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310
            if 200 <= resp.status < 300:
                return
            raise DeliveryFailed(f"gateway answered HTTP {resp.status}", retry=True)
    except urllib.error.HTTPError as exc:
        # 4xx means the gateway will refuse this body again (except timeouts/throttling).
        retry = not (400 <= exc.code < 500) or exc.code in (408, 429)
        raise DeliveryFailed(f"gateway answered HTTP {exc.code}", retry=retry) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise DeliveryFailed(f"gateway unreachable: {exc}", retry=True) from None


def _gateway(settings: Settings, url: str | None, name: str) -> tuple[str, str]:
    if not url:
        raise DeliveryFailed(f"no {name} gateway URL is configured", retry=False)
    assert settings.gateway_signing_secret  # Settings refuses a URL without one
    return url, settings.gateway_signing_secret


def send_webhook(settings: Settings, key: str, payload: dict[str, Any]) -> None:
    """A notice for the WeCom / notification gateway, as enqueued."""
    url, secret = _gateway(settings, settings.notify_webhook_url, "webhook")
    post_signed(url, payload, secret=secret, idempotency_key=key,
                timeout_s=settings.gateway_timeout_s)


def send_sms(settings: Settings, key: str, payload: dict[str, Any]) -> None:
    """An SMS: {"phone": ..., "text": ...} for the SMS gateway."""
    url, secret = _gateway(settings, settings.sms_gateway_url, "SMS")
    if not isinstance(payload.get("phone"), str) or not isinstance(payload.get("text"), str):
        raise DeliveryFailed("an SMS needs a phone and a text", retry=False)
    post_signed(url, {"phone": payload["phone"], "text": payload["text"], "key": key},
                secret=secret, idempotency_key=key, timeout_s=settings.gateway_timeout_s)


SENDERS: dict[str, Callable[[Settings, str, dict[str, Any]], None]] = {
    "webhook": send_webhook,
    "sms": send_sms,
}
