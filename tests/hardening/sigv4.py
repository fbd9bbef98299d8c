"""Check a SigV4 presigned GET URL against a known secret key (moto does not verify them itself)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def presigned_params(url: str) -> dict[str, str]:
    """The query parameters of a presigned URL."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
"""What S3 presigned URLs sign instead of a body hash."""
EMPTY_PAYLOAD: Final = hashlib.sha256(b"").hexdigest()
"""What other services' presigned requests sign (an empty body)."""


def signature_valid(url: str, secret_key: str, payload_hash: str = UNSIGNED_PAYLOAD) -> bool:
    """True when the URL's X-Amz-Signature signs exactly this method, path, query and host."""
    parts = urlsplit(url)
    params = presigned_params(url)
    signature = params.pop("X-Amz-Signature", "")
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or params.get("X-Amz-SignedHeaders") != "host":
        return False
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    canonical = "\n".join(["GET", parts.path, query, f"host:{parts.netloc}", "", "host", payload_hash])
    _, date, region, service, _ = params["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
