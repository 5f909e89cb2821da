"""`witgen sign`: Ed25519 signatures embedded in a component, in wasmsign2's format.

    witgen sign --keygen --key KEYPAIR --public-key PUB      make a key pair
    witgen sign COMPONENT --key KEYPAIR [-o OUT]             sign (in place without -o)
    witgen sign COMPONENT --verify --public-key PUB          check; exit 0 valid, 1 not

Keys are wasmsign2's raw files (public `0x01 ‖ 32 bytes`, key pair `0x81 ‖ secret ‖ public`)
or PEM. A pipeline stage with `signed_by` refuses a component that is unsigned or modified
after signing, before any of its code runs. See `witgen.pipeline.signing` for the layout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from witgen.diagnostics import UsageError

HELP = "sign a plugin component (Ed25519, wasmsign2 format) or verify its signature"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("component", nargs="?", type=Path, help="the .wasm component")
    parser.add_argument("--key", type=Path, help="the key pair (secret key) file")
    parser.add_argument("--public-key", type=Path, help="the public key file")
    parser.add_argument("-o", "--output", type=Path, help="write the signed component here")
    parser.add_argument("--key-id", default="", help="a key identifier stored with the signature")
    parser.add_argument("--keygen", action="store_true", help="generate a key pair")
    parser.add_argument("--verify", action="store_true", help="verify instead of signing")


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    from witgen.pipeline import signing

    if args.keygen:
        if args.key is None or args.public_key is None:
            raise UsageError("--keygen needs --key FILE and --public-key FILE to write")
        if args.key.exists():
            raise UsageError(f"{args.key} exists; not overwriting a key")
        keypair, public = signing.generate_keypair()
        _write(args.key, keypair, 0o600)
        _write(args.public_key, public)
        print(f"wrote {args.key} (keep it secret) and {args.public_key}")
        return 0
    if args.component is None:
        raise UsageError("a COMPONENT is required (or --keygen)")
    try:
        wasm = args.component.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.component}: {exc.strerror}") from None
    if args.verify:
        if args.public_key is None:
            raise UsageError("--verify needs --public-key FILE")
        key = signing.load_public_key(args.public_key)
        try:
            signing.verify(wasm, {str(args.public_key): key})
        except signing.SignatureError as exc:
            print(f"{args.component}: {exc}", file=sys.stderr)
            return 1
        print(f"{args.component}: valid signature by {args.public_key}")
        return 0
    if args.key is None:
        raise UsageError("signing needs --key FILE (make one with --keygen)")
    secret = signing.load_secret_key(args.key)
    signed = signing.sign(wasm, secret, args.key_id.encode())
    target = args.output or args.component
    _write(target, signed)
    print(f"signed {target}")
    return 0
