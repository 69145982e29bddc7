"""
A small element tree over the standard library's HTML parser, so tests can
ask questions about a page's structure (landmarks, tables, forms) without
adding a dependency.

The parser unescapes text and attribute values, so assertions compare
plain text with what is stored in the database.
"""

import json
import re
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)


class Element:
    def __init__(self, tag, attrs=None, parent=None):
        self.tag = tag
        self.attrs = dict(attrs or {})
        self.parent = parent
        self.children = []

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"

    @property
    def elements(self):
        return [child for child in self.children if isinstance(child, Element)]

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.elements:
            yield from child.iter()

    def find_all(self, tag=None, **attrs):
        """Elements inside this one; `class_` matches one of the element's classes."""
        wanted_class = attrs.pop("class_", None)
        return [
            element
            for element in self.iter()
            if element is not self
            and (tag is None or element.tag == tag)
            and all(element.attrs.get(name) == value for name, value in attrs.items())
            and (wanted_class is None or wanted_class in element.classes)
        ]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def ancestors(self):
        element = self.parent
        while element is not None:
            yield element
            element = element.parent

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    @property
    def raw_text(self):
        return "".join(
            child if isinstance(child, str) else child.raw_text
            for child in self.children
            if isinstance(child, str) or child.tag not in {"script", "style"}
        )

    @property
    def text(self):
        """The text a reader sees, with runs of whitespace collapsed."""
        return re.sub(r"\s+", " ", self.raw_text).strip()


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        # A valueless attribute (`novalidate`, `checked`) comes through as None.
        element = Element(tag, [(name, "" if value is None else value) for name, value in attrs])
        element.parent = self.current
        self.current.children.append(element)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        open_tags = [self.current, *self.current.ancestors()]
        for element in open_tags:
            if element.tag == tag:
                self.current = element.parent
                return
        # A stray end tag: browsers ignore it, and so do we.

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(content):
    if isinstance(content, bytes):
        content = content.decode()
    builder = _TreeBuilder()
    builder.feed(content)
    builder.close()
    return builder.root


def json_ld(document):
    """Every JSON-LD object on the page, decoded."""
    return [
        json.loads(script.raw_text)
        for script in document.find_all("script", type="application/ld+json")
    ]


def meta_content(document, **attrs):
    element = document.find("meta", **attrs)
    return None if element is None else element.attrs.get("content")


def form_data(form):
    """
    What a browser would submit for `form` unchanged: checked boxes only, the
    selected options, and textarea contents. The admin's blank inline templates
    (`__prefix__`) are left out, as Django's JavaScript would leave them.
    """
    data = {}

    def add(name, value):
        if name and "__prefix__" not in name:
            data.setdefault(name, []).append(value)

    for element in form.iter():
        name = element.attrs.get("name")
        if element.tag == "input":
            kind = element.attrs.get("type", "text")
            if kind in {"submit", "button", "image", "file", "reset"}:
                continue
            if kind in {"checkbox", "radio"}:
                if "checked" in element.attrs:
                    add(name, element.attrs.get("value", "on"))
                continue
            add(name, element.attrs.get("value", ""))
        elif element.tag == "select":
            options = element.find_all("option")
            selected = [option for option in options if "selected" in option.attrs]
            if not selected and "multiple" not in element.attrs and options:
                selected = options[:1]
            for option in selected:
                add(name, option.attrs.get("value", option.text))
        elif element.tag == "textarea":
            # Browsers drop the newline that Django writes after <textarea>.
            value = element.raw_text
            add(name, value[1:] if value.startswith("\n") else value)
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}
