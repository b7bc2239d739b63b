"""WardWatch monitor: the signal core, the per-bed pipeline, the service wiring and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wardwatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
