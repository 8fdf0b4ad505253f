"""keel-server's version (in the OpenAPI schema)."""

VERSION = "0.1.0"
