"""IAM authentication to ElastiCache (Valkey/Redis): short-lived SigV4 tokens instead of a password.

ElastiCache accepts, as the AUTH password of an IAM-enabled user, a presigned ``connect`` request
for that user and cache. Tokens are valid for 15 minutes for new connections; redis-py asks for
credentials on every new connection, so a token is reused until shortly before it expires.
"""

from __future__ import annotations

import threading
import time
from typing import Final
from urllib.parse import urlencode

import boto3
from botocore.model import ServiceId
from botocore.signers import RequestSigner
from redis.credentials import CredentialProvider

TOKEN_SECONDS: Final = 900
REFRESH_BEFORE_SECONDS: Final = 120


class ElastiCacheIamAuth(CredentialProvider):
    """``(user, token)`` for an IAM-enabled ElastiCache user, signed with the runtime role."""

    def __init__(self, user_id: str, cache_name: str, *, serverless: bool = True) -> None:
        self._user = user_id
        self._cache = cache_name
        self._serverless = serverless
        self._session = boto3.session.Session()
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        """A fresh token: the presigned ``connect`` URL without its scheme."""
        region = self._session.region_name
        credentials = self._session.get_credentials()
        if region is None or credentials is None:
            raise RuntimeError("IAM auth to the cache needs AWS credentials and a region")
        signer = RequestSigner(
            ServiceId("elasticache"), region, "elasticache", "v4", credentials, self._session.events
        )
        query = {"Action": "connect", "User": self._user}
        if self._serverless:
            query["ResourceType"] = "ServerlessCache"
        request = {
            "method": "GET",
            "url": f"https://{self._cache}/?{urlencode(query)}",
            "body": {},
            "headers": {},
            "context": {},
        }
        url: str = signer.generate_presigned_url(
            request, operation_name="connect", expires_in=TOKEN_SECONDS, region_name=region
        )
        return url.removeprefix("https://")

    def get_credentials(self) -> tuple[str, str]:
        """The user and a token valid for at least two more minutes."""
        with self._lock:
            now = time.monotonic()
            if now >= self._expires_at:
                self._token = self.token()
                self._expires_at = now + TOKEN_SECONDS - REFRESH_BEFORE_SECONDS
            return self._user, self._token
