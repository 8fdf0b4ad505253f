"""`keel-answer inspect-iso`: what a (prepared) Keel ISO will do, with its secrets masked unless asked for."""

from __future__ import annotations

import hashlib

from answerfile.media.contents import KeelIso
from answerfile.redaction import REDACTED, redact_answer_text
from installer.core.fetch_mode import ANSWER_FILE, FIRST_BOOT_FILE
from installer.core.redact import redact_url

NOT_PREPARED = "none (not prepared: the boot menu starts the Terminal UI; see keel-answer prepare-iso)"


def render_report(iso: KeelIso, *, show_sensitive: bool = False) -> str:
    """The report: version and profile, fetch mode and its settings, first-boot script, the embedded answer.

    Masked unless `show_sensitive`: the token, user:password and secret-looking parameters in the URL, and
    the answer's root-password, root-password-hashed, subscription-key and auth-token."""
    rows = [("ISO", str(iso.path)), ("Keel", f"{iso.version} ({iso.profile} payload)")]
    mode = iso.fetch_mode
    if mode is None:
        rows.append(("Fetch mode", NOT_PREPARED))
    else:
        rows += [("Mode file", f"/{iso.mode_file}"), ("Fetch mode", mode.mode)]
        if mode.mode == "partition":
            rows.append(("Partition label", f"{mode.partition_label} (tried as written, upper and lower case)"))
        if mode.mode == "http":
            url = mode.url if show_sensitive or mode.url is None else redact_url(mode.url)
            rows += [("URL", url or "none: from DHCP option 250 or DNS TXT record"),
                     ("Fingerprint", mode.cert_fingerprint or "none: the system's CA certificates decide"),
                     ("Token", _secret(mode.token, show_sensitive) if mode.token else "none")]
    if mode is not None or iso.answer is not None:
        rows.append(("Boot menu", "automated entry first, started after a countdown" if iso.boots_automated
                     else "older than prepare-iso: the Terminal UI is the default entry; rebuild the ISO"))
    if iso.first_boot is not None:
        digest = hashlib.sha256(iso.first_boot).hexdigest()
        rows.append(("First-boot script", f"/{FIRST_BOOT_FILE} ({len(iso.first_boot)} bytes, sha256 {digest})"))
    rows.append(("Answer", f"/{ANSWER_FILE}" if iso.answer is not None else "none on the ISO"))
    width = max(len(name) for name, _ in rows) + 2
    out = [f"{name + ':':<{width}}{value}" for name, value in rows]
    if iso.answer is not None:
        masked = "" if show_sensitive else " (secrets masked; --show-sensitive shows them)"
        out += ["", f"--- /{ANSWER_FILE}{masked}"]
        out.append(_answer_text(iso.answer, show_sensitive).rstrip("\n"))
    return "\n".join(out) + "\n"


def _secret(value: str, show: bool) -> str:
    return value if show else REDACTED


def _answer_text(answer: str, show_sensitive: bool) -> str:
    if show_sensitive:
        return answer
    try:
        return redact_answer_text(answer)
    except ValueError as err:
        return f"(not shown: {err}; --show-sensitive shows it as it is)"
