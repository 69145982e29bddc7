"""
Pages read as a browser reads them, with BeautifulSoup (Python's own HTML
parser underneath), so tests ask about a page's structure (landmarks,
tables, forms) rather than search its text.

Elements answer the few questions the tests ask in their own words:
`find`/`find_all` match attributes exactly (`class_` one of the classes),
`text` is what a reader sees with runs of whitespace collapsed, `raw_text`
the text as written (BeautifulSoup shortens whitespace-only runs between
tags; a textarea's and a script's contents are kept whole); script and style
contents are not text. Text and
attribute values come unescaped, so tests compare them with what is stored.
"""

import json
import re

from bs4 import BeautifulSoup, Tag


class _Reading:
    """What the tests ask of an element (and of the document)."""

    # One element is one element: BeautifulSoup compares tags by their markup.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def tag(self):
        return self.name

    @property
    def classes(self):
        return (self.get("class") or "").split()

    @property
    def elements(self):
        return self.find_all(recursive=False)

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        yield from (child for child in self.descendants if isinstance(child, Tag))

    def ancestors(self):
        return self.parents

    def find_all(self, tag=None, *, recursive=True, **attrs):
        """Elements inside this one; `class_` matches one of the element's classes."""
        wanted_class = attrs.pop("class_", None)

        def wanted(element):
            return (
                (tag is None or element.name == tag)
                and all(element.get(name) == value for name, value in attrs.items())
                and (wanted_class is None or wanted_class in element.classes)
            )

        return Tag.find_all(self, wanted, recursive=recursive)

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    @property
    def raw_text(self):
        return self.get_text()

    @property
    def text(self):
        """The text a reader sees, with runs of whitespace collapsed."""
        return re.sub(r"\s+", " ", self.get_text()).strip()


class Element(_Reading, Tag):
    pass


class Document(_Reading, BeautifulSoup):
    pass


def parse_html(content):
    # `class` stays one string, as written; `classes` splits it.
    return Document(
        content, "html.parser", element_classes={Tag: Element}, multi_valued_attributes=None
    )


def json_ld(document):
    """Every JSON-LD object on the page, decoded."""
    return [
        json.loads(script.raw_text)
        for script in document.find_all("script", type="application/ld+json")
    ]


def meta_content(document, **attrs):
    element = document.find("meta", **attrs)
    return None if element is None else element.get("content")


def form_data(form):
    """
    What a browser would submit for `form` unchanged: checked boxes only, the
    selected options, and textarea contents. The admin's blank inline templates
    (`__prefix__`) are left out, as Django's JavaScript would leave them.
    """
    data = {}
    for element in Tag.find_all(form, ["input", "select", "textarea"]):
        name = element.get("name")
        if not name or "__prefix__" in name:
            continue
        for value in _submitted(element):
            data.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}


def _submitted(element):
    """The values a browser sends for one field."""
    if element.name == "input":
        kind = element.get("type", "text")
        if kind in {"submit", "button", "image", "file", "reset"}:
            return []
        if kind in {"checkbox", "radio"}:
            return [element.get("value", "on")] if element.has_attr("checked") else []
        return [element.get("value", "")]
    if element.name == "select":
        options = element.find_all("option")
        selected = [option for option in options if option.has_attr("selected")]
        if not selected and not element.has_attr("multiple"):
            selected = options[:1]
        return [option.get("value", option.text) for option in selected]
    # Browsers drop the newline that Django writes after <textarea>.
    return [element.raw_text.removeprefix("\n")]
