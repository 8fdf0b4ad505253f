"""The secret values of an answer, registered with a redactor before the answer is validated (a refused answer is
reported to the answer server, and no message of the refusal may carry one)."""

from __future__ import annotations

from answerfile.redaction import secret_values


def test_every_secret_key_gives_its_value_under_its_name_or_legacy_alias():
    text = ('[global]\nroot_password = "pw-12345678"\nsubscription-key = "pve1c-0123456789"\nkeyboard = "de"\n'
            '[post-installation-webhook]\nurl = "https://hook.example/"\nauth-token = "tok-abc"\n')
    assert sorted(secret_values(text)) == ["pve1c-0123456789", "pw-12345678", "tok-abc"]


def test_text_that_is_not_toml_has_none_to_give():
    assert secret_values('root-password = "unterminated') == []
