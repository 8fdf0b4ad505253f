"""The install engine: the phase list (`phases`), running it with one clear error and cleanup on every path
(`engine`), the one install entry every frontend calls (`install.start_install`), and the webhook report.
Imports every layer below the frontends, never answerfile or a frontend."""
