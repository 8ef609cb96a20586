"""What a ``with`` block holds: something set up on entering and torn down on leaving,
however the block ends (an error, Ctrl-C, a signal)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class HeldByBlock(ABC):
    """A context manager: entering calls :meth:`_on_enter` and gives the object itself;
    leaving calls :meth:`_on_exit` and lets any exception through."""

    def __enter__(self) -> Self:
        self._on_enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._on_exit()

    def _on_enter(self) -> object:
        """What entering does (nothing, unless a subclass says)."""
        return None

    @abstractmethod
    def _on_exit(self) -> object:
        """What leaving does."""
