"""Keel's answer files: the Proxmox-compatible TOML schema, validation, filters and resolution.

The interface the rest of Keel uses lives in `answerfile.api` and is re-exported here (see its docstring).
This package imports only `installer.core`; its command-line module (`cli`) and `demo` are frontends.
Modules inside the package import each other directly, never this `__init__`.
"""

from answerfile.api import (
    AnswerError,
    AnswerProblem,
    Resolution,
    load_install_config,
    parse_install_config,
    read_answer_file,
    resolve_data,
    resolve_text,
    validate_text,
)

__all__ = [
    "AnswerError",
    "AnswerProblem",
    "Resolution",
    "load_install_config",
    "parse_install_config",
    "read_answer_file",
    "resolve_data",
    "resolve_text",
    "validate_text",
]
