"""Images as data: recognising the type by content, -i's commas, pasted paths, the rollout form,
and how both wires put an image (or the note for one that is gone) into a request."""

from __future__ import annotations

from pathlib import Path

import pytest
from codex_openai import chat, responses

from codex.cli.tui.attachments import Attachments, pasted_path
from codex.images import ImageError, image_arguments, image_from_bytes, load_image, sniff_image_type
from codex.protocol import ImageInput, Message, Prompt, item_from_dict, item_to_dict
from codex.testing import make_provider
from tests.test_exec_images_schema import JPEG, png

GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


@pytest.mark.parametrize(
    ("data", "mime"),
    [(png(), "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp"),
     (b"RIFF\x1a\x00\x00\x00WAVEfmt ", None), (b"%PDF-1.7\n", None), (b"", None)],
)
def test_the_type_comes_from_the_first_bytes(data: bytes, mime: str | None) -> None:
    assert sniff_image_type(data[:12]) == mime


def test_a_jpeg_named_png_is_sent_as_jpeg(tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(JPEG)
    image = load_image(tmp_path / "photo.png")
    assert (image.mime_type, image.size, image.path) == ("image/jpeg", len(JPEG), str(tmp_path / "photo.png"))
    assert image.data_url() is not None and image.data_url().startswith("data:image/jpeg;base64,/9j/")


def test_the_size_limit_names_both_sizes() -> None:
    with pytest.raises(ImageError, match=r"^big.png: the image is 2 KiB, more than the 1 KiB a model accepts"):
        image_from_bytes("big.png", png() + b"\x00" * 2048, limit=1024)


def test_image_arguments_split_commas_unless_the_file_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b.png").write_bytes(png())
    assert image_arguments(["x.png, y.png", "a,b.png", "z.png", " "]) == ["x.png", "y.png", "a,b.png", "z.png"]


def test_the_rollout_form_drops_the_bytes_and_comes_back_without_them() -> None:
    image = ImageInput("/w/shot.png", "image/png", 3, "abc", b"\x89PN")
    data = item_to_dict(Message("user", "look", images=(image,)))
    assert data == {"role": "user", "text": "look", "id": None, "type": "message",
                    "images": [{"path": "/w/shot.png", "mime_type": "image/png", "size": 3, "sha256": "abc"}]}
    back = item_from_dict(data)
    assert isinstance(back, Message) and back.images == (image,) and back.images[0].data is None
    # A message without images is written as before.
    assert "images" not in item_to_dict(Message("user", "plain"))
    with pytest.raises(ValueError, match="an image lacks 'sha256'"):
        item_from_dict({**data, "images": [{"path": "p", "mime_type": "image/png", "size": 1}]})


def test_both_wires_send_a_note_for_an_image_that_is_gone_and_skip_empty_text() -> None:
    gone = ImageInput("/w/gone.png", "image/png", 3, "abc")
    here = ImageInput("/w/here.gif", "image/gif", len(GIF), "def", GIF)
    prompt = Prompt("m", "", [Message("user", "", images=(gone, here))])

    [item] = responses.build_body(prompt)["input"]
    assert item["content"][0] == {"type": "input_text", "text": gone.placeholder()}
    assert item["content"][1]["type"] == "input_image"
    assert item["content"][1]["image_url"].startswith("data:image/gif;base64,R0lGOD")

    [message] = chat.build_body(prompt, make_provider("http://127.0.0.1:9/v1"))["messages"]
    assert message["content"][0] == {"type": "text", "text": gone.placeholder()}
    assert message["content"][1]["image_url"]["url"].startswith("data:image/gif;base64,R0lGOD")
    assert "no longer available" in gone.placeholder()


def test_the_output_schema_joins_the_verbosity_setting() -> None:
    schema = {"type": "object"}
    body = responses.build_body(Prompt("gpt-5", "", [], verbosity="low", output_schema=schema))
    assert body["text"] == {"verbosity": "low", "format": {
        "type": "json_schema", "name": "codex_output_schema", "schema": schema, "strict": True}}
    assert "text" not in responses.build_body(Prompt("gpt-5", "", []))
    assert "response_format" not in chat.build_body(Prompt("m", "", []), make_provider("http://127.0.0.1:9/v1"))


@pytest.mark.parametrize(
    "pasted",
    ["{path}", "'{path}'", '"{path}"', "file://{url}", "{escaped}", "  {path}\n"],
)
def test_pasted_paths_as_terminals_paste_a_dropped_file(pasted: str, tmp_path: Path) -> None:
    folder = tmp_path / "My Shots (1)"
    folder.mkdir()
    path = folder / "a b.png"
    path.write_bytes(png())
    text = pasted.format(path=path, url=str(path).replace(" ", "%20"),
                         escaped=str(path).replace(" ", "\\ ").replace("(", "\\(").replace(")", "\\)"))
    assert pasted_path(text, tmp_path) == path


def test_pasted_text_that_is_no_single_existing_file_stays_text(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "shot.png").write_bytes(png())
    attachments = Attachments()
    for text in ("look at shot.png", "notes.txt", "missing.png", "shot.png\nshot.png", str(tmp_path)):
        assert attachments.paste(text, tmp_path) == text
    assert attachments.paste("shot.png", tmp_path) == "[image: shot.png]"
    # Deleting the placeholder from the message drops the image.
    assert attachments.take("no placeholder here") == ()
    assert attachments.paste("shot.png", tmp_path) == "[image: shot.png]"
    assert [image.name for image in attachments.take("[image: shot.png] what is it?")] == ["shot.png"]
