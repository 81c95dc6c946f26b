"""The few DOM operations extraction needs, behind a protocol.

Extraction code only uses :class:`Node` (CSS select, attribute, text, tag, parent), so
the same logic runs on selectolax (lexbor, the engine's parser) and, in the benchmark,
on BeautifulSoup + lxml as the baseline.
"""

from __future__ import annotations

from typing import Protocol

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["Node", "SelectolaxNode", "parse_html"]


class Node(Protocol):
    """A parsed element; ``select``/``select_first`` look at descendants only."""

    @property
    def tag(self) -> str: ...

    @property
    def parent(self) -> Node | None: ...

    def attr(self, name: str) -> str | None: ...

    def text(self) -> str: ...

    def select(self, css: str) -> list[Node]: ...

    def select_first(self, css: str) -> Node | None: ...


class SelectolaxNode:
    """:class:`Node` over a selectolax lexbor node."""

    __slots__ = ("_node",)

    def __init__(self, node: LexborNode) -> None:
        self._node = node

    @property
    def tag(self) -> str:
        return self._node.tag or ""

    @property
    def parent(self) -> SelectolaxNode | None:
        parent = self._node.parent
        return SelectolaxNode(parent) if parent is not None else None

    def attr(self, name: str) -> str | None:
        return self._node.attributes.get(name)

    def text(self) -> str:
        return self._node.text(deep=True, separator="", strip=False)

    def select(self, css: str) -> list[Node]:
        # lexbor matches the node itself too; the protocol means descendants only.
        own = self._node.mem_id
        return [SelectolaxNode(n) for n in self._node.css(css) if n.mem_id != own]

    def select_first(self, css: str) -> Node | None:
        found = self._node.css_first(css)
        if found is not None and found.mem_id == self._node.mem_id:
            rest = self.select(css)
            return rest[0] if rest else None
        return SelectolaxNode(found) if found is not None else None


def parse_html(text: str) -> Node:
    """Parse a whole document with selectolax; returns the ``<html>`` element."""
    tree = LexborHTMLParser(text)
    root = tree.root
    if root is None:
        root = LexborHTMLParser("<html></html>").root
    assert root is not None
    return SelectolaxNode(root)
