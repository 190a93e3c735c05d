"""A real OpenID Connect issuer on loopback for single sign-on tests: it serves its discovery
document and key set over HTTP, signs tokens with keys generated here, rotates them, and counts
what it was asked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks.json"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LocalIssuer:
    """`with LocalIssuer.running() as issuer:` — its URL is `issuer.url`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.keys: dict[str, PrivateKey] = {}  # every key made, by kid
        self.published: list[str] = []  # the kids its key set serves
        self.requests: Counter[str] = Counter()  # by path

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[LocalIssuer]:
        issuer: LocalIssuer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests[self.path] += 1
                if self.path == DISCOVERY:
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + JWKS}
                elif self.path == JWKS:
                    body = {"keys": [issuer.jwk(kid) for kid in issuer.published]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        issuer = cls(server)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield issuer
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def add_key(self, kind: str = "RSA", *, publish: bool = True) -> str:
        """A new key (`RSA`: RS256, `EC`: ES256 on P-256), published unless told not to."""
        kid = f"{kind.lower()}-{uuid.uuid4().hex[:8]}"
        self.keys[kid] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "RSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        if publish:
            self.published.append(kid)
        return kid

    def remove_key(self, kid: str) -> None:
        self.published.remove(kid)

    def jwk(self, kid: str) -> dict[str, Any]:
        key = self.keys[kid]
        algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
        return {**algorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}

    def public_pem(self, kid: str) -> bytes:
        return (
            self.keys[kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def claims(self, email: str, audience: str, now: datetime, **extra: Any) -> dict[str, Any]:
        """What a provider puts in an ID token, valid for an hour from `now`."""
        return {
            "iss": self.url,
            "aud": audience,
            "sub": email,
            "email": email,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(hours=1)).timestamp()),
            **extra,
        }

    def token(self, kid: str, claims: dict[str, Any]) -> str:
        """Signed with the key's own algorithm."""
        key = self.keys[kid]
        algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})

    @staticmethod
    def forged(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
        """A token whose header says what it likes, signed by `sign(signing input)`."""
        signing_input = ".".join(
            _b64(json.dumps(part).encode()) for part in (header, claims)
        ).encode()
        return f"{signing_input.decode()}.{_b64(sign(signing_input))}"

    def hs256_with_public_key(self, kid: str, claims: dict[str, Any]) -> str:
        """The algorithm confusion attack: an HMAC keyed with the issuer's public key."""
        secret = self.public_pem(kid)
        return self.forged(
            {"alg": "HS256", "typ": "JWT", "kid": kid},
            claims,
            lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
        )

    def signed_as(self, alg: str, kid: str, claims: dict[str, Any]) -> str:
        """Signed with the key's own algorithm, but the header claims `alg`."""
        key = self.keys[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            sign = lambda data: RSAAlgorithm(RSAAlgorithm.SHA256).sign(data, key)  # noqa: E731
        else:
            sign = lambda data: ECAlgorithm(ECAlgorithm.SHA256).sign(data, key)  # noqa: E731
        return self.forged({"alg": alg, "typ": "JWT", "kid": kid}, claims, sign)


@contextmanager
def silent_issuer() -> Iterator[str]:
    """An issuer's URL whose server accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
