"""What a PDF really carries: its text, and the fonts it embeds (a tofu box hides behind text
extraction, not behind the font list)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "documents"


def keep(data: bytes, name: str) -> Path:
    """Keep a PDF as a test artefact (test-artifacts/documents/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(data)
    return path


@dataclass(frozen=True)
class EmbeddedFont:
    name: str
    embedded: bool


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> list[EmbeddedFont]:
    """Every font the pages use, with whether its program is embedded (FontFile, FontFile2 or 3)."""
    from pypdf import PdfReader

    out = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descriptors = [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
            descriptors.append(font.get("/FontDescriptor"))
            embedded = any(d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                           for d in descriptors)
            name = str(font.get("/BaseFont", ""))
            out[name] = EmbeddedFont(name, embedded)
    return list(out.values())


def assert_cjk_fonts_embedded(data: bytes) -> None:
    fonts = pdf_fonts(data)
    assert fonts, "the PDF uses no font"
    for f in fonts:
        assert "CJK" in f.name, f"{f.name} is not a CJK font: Chinese would show as boxes"
        assert f.embedded, f"{f.name} is not embedded"
