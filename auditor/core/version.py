"""The package version (one place; the result records it)."""

VERSION = "0.1.0"
