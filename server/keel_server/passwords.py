"""Root passwords become `root-password-hashed` (SHA-512 crypt, Drepper's specification) before they are stored
or served: in a profile's template when it is saved, and in a rendered answer before it leaves.

SHA-512 crypt is written out here because Python's `crypt` module is deprecated (gone in 3.13) and the server
must not shell out for it; the specification's own test vectors check it (tests/unit/server/test_passwords.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import tomllib
from typing import Any

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROUNDS_DEFAULT = 5000
# The byte triples of the final digest, in the order the specification encodes them.
PERMUTATION = ((0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
               (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
               (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41))
PASSWORD_KEYS = ("root-password", "root_password")
# A `root-password = "..."` line of a template (a TOML basic or literal string, nothing else on the line).
PASSWORD_LINE = re.compile(r"""^(?P<indent>[ \t]*)(?P<key>root-password|root_password|"root-password")[ \t]*=[ \t]*
                               (?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*')[ \t]*(?P<comment>\#.*)?$""",
                           re.MULTILINE | re.VERBOSE)

# Any other spelling of a root-password key (in an inline table, quoted, ...): refused rather than stored.
LEFT_OVER = re.compile(r"""(?<![\w-])["']?root[-_]password["']?[ \t]*=""")


class PasswordError(ValueError):
    """A template's root-password that cannot be hashed when the profile is saved."""


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // len(digest) + 1))[:length]


def sha512_crypt(password: str, salt: str | None = None, rounds: int = ROUNDS_DEFAULT) -> str:
    """`$6$[rounds=N$]salt$hash` of `password`; a random 16-character salt unless one is given."""
    p = password.encode()
    s = (salt if salt is not None else "".join(secrets.choice(ITOA64) for _ in range(16)))[:16].encode()
    rounds = min(max(rounds, 1000), 999_999_999)
    b = hashlib.sha512(p + s + p).digest()
    a = hashlib.sha512(p + s)
    n = len(p)
    while n > 64:
        a.update(b)
        n -= 64
    a.update(b[:n])
    n = len(p)
    while n:
        a.update(b if n & 1 else p)
        n >>= 1
    c = a.digest()
    p_seq = _repeat(hashlib.sha512(p * len(p)).digest(), len(p))
    s_seq = _repeat(hashlib.sha512(s * (16 + c[0])).digest(), len(s))
    for i in range(rounds):
        h = hashlib.sha512(p_seq if i & 1 else c)
        if i % 3:
            h.update(s_seq)
        if i % 7:
            h.update(p_seq)
        h.update(c if i & 1 else p_seq)
        c = h.digest()
    encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in PERMUTATION) + _b64(0, 0, c[63], 2)
    prefix = "$6$" if rounds == ROUNDS_DEFAULT else f"$6$rounds={rounds}$"
    return f"{prefix}{s.decode()}${encoded}"


def hash_template_passwords(template: str) -> str:
    """The template with every literal `root-password = "..."` line replaced by its `root-password-hashed`.
    A root-password whose value is not a plain string literal (a Jinja expression) is refused: it could not be
    hashed here, and would otherwise be stored in plain text."""
    def replace(found: re.Match[str]) -> str:
        value = tomllib.loads(f"v = {found.group('value')}")["v"]
        if "{{" in value or "{%" in value:
            raise PasswordError("root-password is a Jinja expression: it must be a literal so that it can be "
                                "hashed when the profile is saved, or use root-password-hashed")
        return f'{found.group("indent")}root-password-hashed = "{sha512_crypt(value)}"'

    out = PASSWORD_LINE.sub(replace, template)
    if LEFT_OVER.search(out):
        raise PasswordError("root-password must be on a line of its own as `root-password = \"...\"` so that "
                                "it can be hashed when the profile is saved, or use root-password-hashed")
    return out


def hash_answer_passwords(answer: dict[str, Any]) -> bool:
    """Replace global.root-password in a parsed answer by its hash, in place; whether there was one."""
    glob = answer.get("global")
    if not isinstance(glob, dict):
        return False
    changed = False
    for key in PASSWORD_KEYS:
        if isinstance(glob.get(key), str):
            glob["root-password-hashed"] = sha512_crypt(glob.pop(key))
            changed = True
    return changed
