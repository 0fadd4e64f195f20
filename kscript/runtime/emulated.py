"""Which (module, function) pairs kscript emulates, from the registered modules."""

from __future__ import annotations


def emulated_functions() -> set[tuple[str, str]]:
    """(module, function) pairs with a real implementation in kscript's module registry."""
    from ..modules import registry

    return registry.emulated_functions()
