"""Pure renderers: one function per file of the installed system, typed values in, file text out."""
