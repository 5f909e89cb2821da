"""Ed25519 signatures inside WebAssembly modules and components, in wasmsign2's format.

The convention (WebAssembly tool-conventions `Signatures.md`, implemented by wasmsign2): the
signature lives in a custom section named `signature` that must be the first section after the
8-byte preamble. Its payload is

    spec_version (varuint, 0x01) ‖ content_type (varuint, 0x01) ‖ hash_fn (varuint, 0x01: SHA-256)
    ‖ count (varuint) ‖ count × slice(signed_hashes)

where `slice(x)` is a varuint length then x, and `signed_hashes` is

    hashes_count (varuint) ‖ hashes (32 bytes each)
    ‖ signature_count (varuint) ‖ signature_count × slice(key_id_len ‖ key_id ‖ alg_id (0x01,
    Ed25519) ‖ slice(signature))

Every hash is SHA-256 over the raw bytes of the sections that follow the signature section (up
to a `signature_delimiter` section for partial signatures; a whole-module signature, which is
what `witgen sign` makes and what verification requires, covers everything to the end). What is
signed is `"wasmsig" ‖ spec_version ‖ content_type ‖ hash_fn ‖ hashes`.

Keys are stored in wasmsign2's raw form: a public key is `0x01 ‖ 32 bytes`, a key pair
`0x81 ‖ secret (32 bytes) ‖ public (32 bytes)`; PEM files (as `openssl genpkey -algorithm
ed25519` writes them) are accepted too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from witgen.diagnostics import UsageError
from witgen.toolchains.wasm_binary import read_uleb

SECTION_NAME = b"signature"
DELIMITER_NAME = b"signature_delimiter"
SPEC_VERSION = 0x01
CONTENT_TYPE = 0x01  # WebAssembly module (components use the same identifier)
HASH_SHA256 = 0x01
ED25519 = 0x01
PK_TAG = 0x01
KEYPAIR_TAG = 0x81
DOMAIN = b"wasmsig"
PREAMBLE = 8


class SignatureError(UsageError):
    """A signature that is missing, malformed or does not verify (exit status 2)."""


# ---------------------------------------------------------------------------- encoding


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _slice(data: bytes) -> bytes:
    return _uleb(len(data)) + data


def _read_slice(data: bytes, pos: int) -> tuple[bytes, int]:
    n, pos = read_uleb(data, pos)
    if pos + n > len(data):
        raise ValueError("truncated field")
    return data[pos : pos + n], pos + n


@dataclass(frozen=True)
class Section:
    id: int
    start: int  # offset of the section id byte
    end: int  # offset after the payload
    name: bytes | None  # custom sections only
    payload: bytes  # for custom sections: the data after the name


def sections(wasm: bytes) -> list[Section]:
    """The top-level sections of a module or component (both share the section framing)."""
    if len(wasm) < PREAMBLE or wasm[:4] != b"\0asm":
        raise ValueError("not a WebAssembly binary (no \\0asm preamble)")
    out: list[Section] = []
    pos = PREAMBLE
    while pos < len(wasm):
        start = pos
        sid = wasm[pos]
        size, pos = read_uleb(wasm, pos + 1)
        end = pos + size
        if end > len(wasm):
            raise ValueError(f"section at offset {start} runs past the end of the file")
        name = None
        payload = wasm[pos:end]
        if sid == 0:
            name, after = _read_slice(wasm, pos)
            payload = wasm[after:end]
        out.append(Section(sid, start, end, name, payload))
        pos = end
    return out


def _custom(name: bytes, payload: bytes) -> bytes:
    body = _slice(name) + payload
    return b"\x00" + _uleb(len(body)) + body


@dataclass(frozen=True)
class SignedHashes:
    hashes: tuple[bytes, ...]
    signatures: tuple[tuple[bytes, int, bytes], ...]  # (key_id, alg_id, signature)


def encode_signature_data(sets: list[SignedHashes]) -> bytes:
    out = bytearray(_uleb(SPEC_VERSION) + _uleb(CONTENT_TYPE) + _uleb(HASH_SHA256))
    out += _uleb(len(sets))
    for s in sets:
        inner = bytearray(_uleb(len(s.hashes)))
        for h in s.hashes:
            inner += h
        inner += _uleb(len(s.signatures))
        for key_id, alg, sig in s.signatures:
            inner += _slice(_slice(key_id) + bytes([alg]) + _slice(sig))
        out += _slice(bytes(inner))
    return bytes(out)


def decode_signature_data(data: bytes) -> list[SignedHashes]:
    version, pos = read_uleb(data, 0)
    content, pos = read_uleb(data, pos)
    hash_fn, pos = read_uleb(data, pos)
    if version != SPEC_VERSION:
        raise ValueError(f"unsupported signature format version {version}")
    if content != CONTENT_TYPE:
        raise ValueError(f"unsupported content type {content}")
    if hash_fn != HASH_SHA256:
        raise ValueError(f"unsupported hash function {hash_fn}")
    count, pos = read_uleb(data, pos)
    if count > 64:
        raise ValueError("too many signed hash sets")
    sets: list[SignedHashes] = []
    for _ in range(count):
        blob, pos = _read_slice(data, pos)
        n, p = read_uleb(blob, 0)
        if n > 64 or p + 32 * n > len(blob):
            raise ValueError("malformed hash list")
        hashes = tuple(blob[p + 32 * i : p + 32 * (i + 1)] for i in range(n))
        p += 32 * n
        nsig, p = read_uleb(blob, p)
        sigs: list[tuple[bytes, int, bytes]] = []
        for _ in range(nsig):
            rec, p = _read_slice(blob, p)
            key_id, q = _read_slice(rec, 0)
            if q >= len(rec):
                raise ValueError("malformed signature record")
            alg = rec[q]
            sig, q = _read_slice(rec, q + 1)
            sigs.append((key_id, alg, sig))
        sets.append(SignedHashes(hashes, tuple(sigs)))
    if pos != len(data):
        raise ValueError("trailing bytes after the signatures")
    return sets


def _message(hashes: tuple[bytes, ...]) -> bytes:
    return DOMAIN + bytes([SPEC_VERSION, CONTENT_TYPE, HASH_SHA256]) + b"".join(hashes)


# ---------------------------------------------------------------------------- keys


def generate_keypair() -> tuple[bytes, bytes]:
    """(key pair file bytes, public key file bytes), in wasmsign2's raw encoding."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    sk = Ed25519PrivateKey.generate()
    secret = sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return bytes([KEYPAIR_TAG]) + secret + public, bytes([PK_TAG]) + public


def load_secret_key(path: Path) -> object:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read(path, "secret key")
    if len(data) == 65 and data[0] == KEYPAIR_TAG:
        return Ed25519PrivateKey.from_private_bytes(data[1:33])
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 secret key (wasmsign2 raw or PEM)")
    return key


def load_public_key(path: Path) -> object:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _read(path, "public key")
    if len(data) == 33 and data[0] == PK_TAG:
        return Ed25519PublicKey.from_public_bytes(data[1:])
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path}: not an Ed25519 public key (wasmsign2 raw or PEM)")
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"cannot read {what} {path}: {exc.strerror}") from None


# ---------------------------------------------------------------------------- sign, verify


def sign(wasm: bytes, secret_key: object, key_id: bytes = b"") -> bytes:
    """`wasm` with a whole-module signature by `secret_key` (an existing one is replaced)."""
    try:
        secs = sections(wasm)
    except ValueError as exc:
        raise SignatureError(f"cannot sign: {exc}") from None
    body = bytearray()
    for s in secs:
        if s.id == 0 and s.name == SECTION_NAME:
            continue
        body += wasm[s.start : s.end]
    digest = hashlib.sha256(body).digest()
    signature = secret_key.sign(_message((digest,)))  # type: ignore[attr-defined]
    data = encode_signature_data([SignedHashes((digest,), ((key_id, ED25519, signature),))])
    return wasm[:PREAMBLE] + _custom(SECTION_NAME, data) + bytes(body)


def verify(wasm: bytes, public_keys: dict[str, object]) -> str:
    """The name of a trusted key whose whole-module signature is valid, or SignatureError."""
    from cryptography.exceptions import InvalidSignature

    try:
        secs = sections(wasm)
    except ValueError as exc:
        raise SignatureError(f"not a valid WebAssembly binary: {exc}") from None
    if not secs or secs[0].id != 0 or secs[0].name != SECTION_NAME:
        raise SignatureError("the component is not signed (no `signature` section first)")
    try:
        sets = decode_signature_data(secs[0].payload)
    except ValueError as exc:
        raise SignatureError(f"malformed signature section: {exc}") from None
    digest = hashlib.sha256(wasm[secs[0].end :]).digest()
    signed_by_trusted = False
    for s in sets:
        for name, key in public_keys.items():
            for _key_id, alg, sig in s.signatures:
                if alg != ED25519:
                    continue
                try:
                    key.verify(sig, _message(s.hashes))  # type: ignore[attr-defined]
                except InvalidSignature:
                    continue
                signed_by_trusted = True
                if digest in s.hashes:
                    return name
    if signed_by_trusted:
        raise SignatureError("the signature does not match the component: it was modified")
    raise SignatureError("no signature by a trusted key (" + ", ".join(public_keys) + ")")
